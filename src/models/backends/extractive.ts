import { Type } from '@sinclair/typebox';
import { stemmer } from 'stemmer';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { sleep, throwIfAborted } from '../../core/deadline.js';
import type { ModelConfig } from '../../config/models.js';
import { parseOptions } from '../options.js';
import { lastUserMessage } from '../prompt.js';
import type { BackendModel } from '../backend.js';
import type { CallOptions, GenerateRequest, GenerationContext, GenerationStream, Generator, TokenUsage } from '../types.js';

/**
 * `extractive`: the built-in generator and the fallback of last resort. It answers with the
 * context sentences that best match the last user question (BM25 over sentences, so common words
 * weigh little without a stop list), kept in reading order and cited as [n] (the context's
 * 1-based position), streamed word by word with an event-loop turn between words so a client sees
 * the first token before the last is produced.
 */
export const ExtractiveOptionsSchema = Type.Object({
  max_sentences: Type.Integer({ minimum: 1, default: 3 }),
  /** Pause between tokens (0: one event-loop turn), to mimic a slower model in demos and tests. */
  token_delay_ms: Type.Number({ minimum: 0, default: 0 }),
});

type ExtractiveOptions = typeof ExtractiveOptionsSchema.static;

export const NO_CONTEXT_ANSWER = 'I have no documents to answer from, so I cannot answer that.';
const NO_MATCH_PREFIX = 'None of the documents answers this directly. The closest passage says:';

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
    const maxSentences = this.options.max_sentences;
    const stream = async function* (): AsyncGenerator<string> {
      throwIfAborted(options.signal);
      const answer = applyStop(composeAnswer(request, maxSentences), request.stop);
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

interface Sentence {
  context: number;
  position: number;
  text: string;
  terms: string[];
}

/** The answer text: best sentences in reading order with citations, or a plain refusal. */
export function composeAnswer(request: Pick<GenerateRequest, 'messages' | 'contexts'>, maxSentences: number): string {
  if (request.contexts.length === 0) return NO_CONTEXT_ANSWER;
  const question = lastUserMessage(request.messages);
  const sentences = splitSentences(request.contexts);
  if (sentences.length === 0) return NO_CONTEXT_ANSWER;
  const scores = bm25(terms(question), sentences);
  const ranked = sentences
    .map((sentence, i) => ({ sentence, score: scores[i] }))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score);
  if (ranked.length === 0) return `${NO_MATCH_PREFIX} ${cite(sentences[0])}`;
  // Sentences far below the best one are noise, not support.
  const chosen = ranked.filter((s) => s.score >= ranked[0].score * 0.3).slice(0, maxSentences);
  return chosen
    .map((s) => s.sentence)
    .sort((a, b) => a.context - b.context || a.position - b.position)
    .map(cite)
    .join(' ');
}

function cite(sentence: Sentence): string {
  return `${sentence.text} [${sentence.context + 1}]`;
}

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

function splitSentences(contexts: GenerationContext[]): Sentence[] {
  const out: Sentence[] = [];
  contexts.forEach((context, contextIndex) => {
    let position = 0;
    for (const { segment } of segmenter.segment(context.text)) {
      const text = segment.replace(/\s+/g, ' ').trim();
      if (text) out.push({ context: contextIndex, position: position++, text, terms: terms(text) });
    }
  });
  return out;
}

// Question and function words: on a handful of sentences IDF is too weak to discount them.
const IGNORED = new Set(
  'a an and are as at be by can could did do does for from had has have how i if in is it its me my of on or so than that the their them then there these they this those to was we were what when where which who whom why will with would you your'.split(' '),
);

function terms(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((word) => !IGNORED.has(word)).map((word) => stemmer(word));
}

/** BM25 (k1 1.2, b 0.75) of every sentence against the question's distinct terms. */
function bm25(queryTerms: string[], sentences: Sentence[]): number[] {
  const k1 = 1.2;
  const b = 0.75;
  const avgLength = sentences.reduce((sum, s) => sum + s.terms.length, 0) / sentences.length || 1;
  const distinct = [...new Set(queryTerms)];
  const idf = new Map(
    distinct.map((term) => {
      const df = sentences.filter((s) => s.terms.includes(term)).length;
      return [term, Math.log(1 + (sentences.length - df + 0.5) / (df + 0.5))];
    }),
  );
  return sentences.map((s) => {
    let score = 0;
    for (const term of distinct) {
      const tf = s.terms.filter((t) => t === term).length;
      if (tf === 0) continue;
      score += (idf.get(term)! * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * s.terms.length) / avgLength));
    }
    return score;
  });
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
