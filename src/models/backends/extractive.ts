import { Type } from '@sinclair/typebox';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { sleep, throwIfAborted } from '../../core/deadline.js';
import { DEFAULT_ANSWER, type AnswerConfig } from '../../config/answer.js';
import type { ModelConfig } from '../../config/models.js';
import { parseOptions } from '../options.js';
import { lastUserMessage } from '../prompt.js';
import { READER_WEIGHTS, read, type ReadSentence, type ReaderWeights } from '../reader/reader.js';
import type { BackendModel } from '../backend.js';
import type { CallOptions, GenerateRequest, GenerationStream, Generator, TokenUsage } from '../types.js';

/**
 * `extractive`: the built-in generator and the fallback of last resort. The reader (../reader)
 * finds the sentence that answers the last user question and the span in it; the answer is that
 * sentence first, then only sentences that add evidence (config `answer.max_sentences`), each cited
 * as [n] (the context's 1-based position), or with `answer.concise` the span and its sentence.
 * When no passage covers the question it says so, quoting the closest sentence. Streamed word by
 * word with an event-loop turn between words, so a client sees the first token before the last.
 */
export const ExtractiveOptionsSchema = Type.Object({
  /** Pause between tokens (0: one event-loop turn), to mimic a slower model in demos and tests. */
  token_delay_ms: Type.Number({ minimum: 0, default: 0 }),
});

type ExtractiveOptions = typeof ExtractiveOptionsSchema.static;

export const NO_CONTEXT_ANSWER = 'I have no documents to answer from, so I cannot answer that.';
const NO_MATCH_PREFIX = 'None of the documents answers this directly. The closest passage says:';

/** True for the answers that decline: no documents, or none that covers the question. */
export function isAbstention(answer: string): boolean {
  return answer.startsWith(NO_CONTEXT_ANSWER) || answer.startsWith(NO_MATCH_PREFIX);
}

export function createExtractive(config: ModelConfig): BackendModel {
  return new ExtractiveGenerator(config.name, parseOptions(ExtractiveOptionsSchema, config));
}

export class ExtractiveGenerator implements Generator {
  readonly role = 'generator' as const;
  readonly backend = 'extractive';

  constructor(
    readonly name: string,
    private readonly options: ExtractiveOptions,
  ) {}

  generate(request: GenerateRequest, options: CallOptions): GenerationStream {
    const usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0 };
    const delayMs = this.options.token_delay_ms;
    const stream = async function* (): AsyncGenerator<string> {
      throwIfAborted(options.signal);
      const answer = applyStop(composeAnswer(request, request.answer ?? DEFAULT_ANSWER), request.stop);
      usage.prompt_tokens = countWords(request.messages.map((m) => m.content).join(' ')) + countWords(request.contexts.map((c) => c.text).join(' '));
      for (const piece of (answer.match(/\s*\S+/g) ?? []).slice(0, request.maxTokens)) {
        await (delayMs > 0 ? sleep(delayMs, options.signal) : nextTurn());
        throwIfAborted(options.signal);
        usage.completion_tokens++;
        yield piece;
      }
    };
    return Object.assign(stream(), { usage: () => usage });
  }

  async load(): Promise<void> {}
  async warmup(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * The answer text: the reader's sentences with citations, the span first when concise, or a
 * refusal. `weights` other than the tuned ones are for tuning runs (bench/reader-cv.ts).
 */
export function composeAnswer(
  request: Pick<GenerateRequest, 'messages' | 'contexts'>,
  answer: Pick<AnswerConfig, 'max_sentences' | 'concise'>,
  weights: ReaderWeights = READER_WEIGHTS,
): string {
  if (request.contexts.length === 0) return NO_CONTEXT_ANSWER;
  const reading = read(lastUserMessage(request.messages), request.contexts, answer.concise ? 1 : answer.max_sentences, weights);
  const [best] = reading.sentences;
  if (!best) return NO_CONTEXT_ANSWER;
  if (!reading.answered) return `${NO_MATCH_PREFIX} ${cite(best)}`;
  if (answer.concise && best.span) return `${best.span.text}: ${cite(best)}`;
  return reading.sentences.map(cite).join(' ');
}

function cite(sentence: ReadSentence): string {
  return `${sentence.text} [${sentence.passage + 1}]`;
}

function applyStop(text: string, stop: string[] | undefined): string {
  let end = text.length;
  for (const s of stop ?? []) {
    const at = s ? text.indexOf(s) : -1;
    if (at >= 0) end = Math.min(end, at);
  }
  return text.slice(0, end);
}

function countWords(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}
