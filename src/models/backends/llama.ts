import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaEmbeddingContext, LlamaModel, Token } from 'node-llama-cpp';
import { throwIfAborted } from '../../core/deadline.js';
import { ConfigError, ProntoError } from '../../core/errors.js';
import { DEFAULT_ANSWER } from '../../config/answer.js';
import type { ModelConfig } from '../../config/models.js';
import { modelKey, parseOptions } from '../options.js';
import { lastUserMessage, passagesForModel, renderPrompt } from '../prompt.js';
import type { BackendContext, BackendModel } from '../backend.js';
import type { CallOptions, Embedder, GenerateRequest, GenerationStream, Generator, TokenUsage, ToolCallRequest, ToolCallResult } from '../types.js';
import { readReply, replySchema, toolPrompt } from './llama-tools.js';
import { normalize } from '../../core/vectors.js';
import { importOptional } from '../optional-package.js';

/**
 * `llama`: node-llama-cpp on a GGUF file, CPU only. The generator keeps a pool of context
 * sequences (one context, `sequences` of them: llama.cpp decodes them in one batch) so several
 * requests generate at once, and streams text chunks as they are sampled. Prompts are plain
 * completion prompts (context passages, then the question), trimmed to fit the context window,
 * because small GGUF models often have no chat template. The embedder mean-pools hidden states.
 */
export const LlamaOptionsSchema = Type.Object({
  model_path: Type.String({ minLength: 1 }),
  /** Tokens per sequence (default: what the model was trained with). */
  context_size: Type.Optional(Type.Integer({ minimum: 16 })),
  /** CPU threads per evaluation: 1 is fastest for tiny models on a small machine. */
  threads: Type.Integer({ minimum: 0, default: 1 }),
  /** Concurrent generations (default: batching.max_concurrent_batches, which limits callers to match). */
  sequences: Type.Optional(Type.Integer({ minimum: 1 })),
  temperature: Type.Number({ minimum: 0, default: 0 }),
});

type LlamaOptions = typeof LlamaOptionsSchema.static;

export function createLlama(config: ModelConfig, context: BackendContext): BackendModel {
  const options = parseOptions(LlamaOptionsSchema, config);
  const runtime = new LlamaRuntime(options, context.logger);
  if (config.role === 'generator') return new LlamaGenerator(config.name, options, runtime, options.sequences ?? config.batching.max_concurrent_batches);
  if (config.role === 'embedder') return new LlamaEmbedder(config.name, options, runtime);
  throw new ConfigError(`${modelKey(config)}.role`, `the llama backend serves generators and embedders, not rerankers`);
}

/** The llama.cpp binding and the loaded model, shared by one backend instance. */
class LlamaRuntime {
  llama?: Llama;
  model?: LlamaModel;

  constructor(
    private readonly options: LlamaOptions,
    private readonly logger: Logger,
  ) {}

  async load(): Promise<LlamaModel> {
    if (this.model) return this.model;
    const { getLlama, LlamaLogLevel } = await importOptional('node-llama-cpp', () => import('node-llama-cpp'));
    this.llama = await getLlama({
      gpu: false,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => this.logger.debug({ llama: level }, message.trim()),
    });
    this.model = await this.llama.loadModel({ modelPath: this.options.model_path });
    return this.model;
  }

  get contextSize(): number {
    return this.options.context_size ?? this.model?.trainContextSize ?? 512;
  }

  async close(): Promise<void> {
    await this.model?.dispose();
    await this.llama?.dispose();
    this.model = undefined;
    this.llama = undefined;
  }
}

class LlamaGenerator implements Generator {
  readonly role = 'generator' as const;
  readonly backend = 'llama';
  private context?: LlamaContext;
  private readonly free: LlamaContextSequence[] = [];

  constructor(
    readonly name: string,
    private readonly options: LlamaOptions,
    private readonly runtime: LlamaRuntime,
    private readonly sequences: number,
  ) {}

  async load(): Promise<void> {
    const model = await this.runtime.load();
    this.context = await model.createContext({ contextSize: this.runtime.contextSize, sequences: this.sequences, threads: this.options.threads });
    for (let i = 0; i < this.sequences; i++) this.free.push(this.context.getSequence());
  }

  async warmup(): Promise<void> {}

  generate(request: GenerateRequest, options: CallOptions): GenerationStream {
    const usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0 };
    const self = this;
    async function* stream(): AsyncGenerator<string> {
      throwIfAborted(options.signal);
      const model = self.runtime.model;
      const sequence = self.free.pop();
      if (!model || !sequence) {
        throw model ? new ProntoError('overloaded', `Every ${self.name} sequence is busy`, { retryAfterS: 1 }) : new ProntoError('not_ready', `Model ${self.name} is not loaded`);
      }
      const { LlamaCompletion } = await importOptional('node-llama-cpp', () => import('node-llama-cpp'));
      const completion = new LlamaCompletion({ contextSequence: sequence });
      // Chunks arrive by callback; an object-mode stream turns them into an async iterable.
      const chunks = new PassThrough({ objectMode: true });
      try {
        await sequence.clearHistory();
        const prompt = fitPrompt(request, (text) => model.tokenize(text), self.runtime.contextSize, request.maxTokens);
        usage.prompt_tokens = prompt.length;
        const maxTokens = Math.max(1, Math.min(request.maxTokens, self.runtime.contextSize - prompt.length));
        completion
          .generateCompletion(prompt, {
            maxTokens,
            temperature: request.temperature ?? self.options.temperature,
            signal: options.signal,
            customStopTriggers: request.stop?.filter(Boolean),
            onToken: (tokens) => (usage.completion_tokens += tokens.length),
            onTextChunk: (text) => chunks.write(text),
          })
          .then(
            () => chunks.end(),
            (err: unknown) => chunks.destroy(options.signal.aborted ? options.signal.reason : asUpstream(err)),
          );
        for await (const chunk of chunks) yield chunk as string;
      } finally {
        chunks.destroy();
        completion.dispose({ disposeSequence: false });
        self.free.push(sequence);
      }
    }
    return Object.assign(stream(), { usage: () => usage });
  }

  /**
   * One tool-calling turn: a completion constrained by a grammar built from the tools' schemas
   * (llama-tools.ts), so the reply is always a valid call (or, with `auto`, an answer). A reply
   * cut off by `maxTokens` before its JSON closes is an upstream failure.
   */
  async callTools(request: ToolCallRequest, options: CallOptions): Promise<ToolCallResult> {
    throwIfAborted(options.signal);
    const { model, llama } = this.runtime;
    const sequence = this.free.pop();
    if (!model || !llama || !sequence) {
      throw model ? new ProntoError('overloaded', `Every ${this.name} sequence is busy`, { retryAfterS: 1 }) : new ProntoError('not_ready', `Model ${this.name} is not loaded`);
    }
    const { LlamaCompletion } = await importOptional('node-llama-cpp', () => import('node-llama-cpp'));
    const completion = new LlamaCompletion({ contextSequence: sequence });
    try {
      await sequence.clearHistory();
      // The schema is built at run time from the request, so its type cannot be inferred statically.
      const grammar = await llama.createGrammarForJsonSchema(replySchema(request) as { type: 'object' });
      // The reply keeps up to half the window; the prompt keeps its end (the latest turns).
      const reserved = Math.min(request.maxTokens, Math.floor(this.runtime.contextSize / 2));
      const prompt = model.tokenize(toolPrompt(request)).slice(-(this.runtime.contextSize - reserved));
      let completionTokens = 0;
      const text = await completion.generateCompletion(prompt, {
        grammar,
        maxTokens: Math.max(1, Math.min(request.maxTokens, this.runtime.contextSize - prompt.length)),
        temperature: request.temperature ?? this.options.temperature,
        signal: options.signal,
        onToken: (tokens) => (completionTokens += tokens.length),
      });
      const usage = { prompt_tokens: prompt.length, completion_tokens: completionTokens };
      let parsed: unknown;
      try {
        parsed = grammar.parse(text);
      } catch (err) {
        throw new ProntoError('upstream_failed', `${this.name}'s tool call did not end within ${request.maxTokens} tokens`, { cause: err });
      }
      const reply = readReply(parsed);
      if ('answer' in reply) return { content: reply.answer, toolCalls: [], usage };
      return { content: '', toolCalls: [{ id: `call_${randomUUID().slice(0, 8)}`, ...reply }], usage };
    } catch (err) {
      if (options.signal.aborted) throw options.signal.reason;
      throw err instanceof ProntoError ? err : asUpstream(err);
    } finally {
      completion.dispose({ disposeSequence: false });
      this.free.push(sequence);
    }
  }

  async close(): Promise<void> {
    await this.context?.dispose();
    this.context = undefined;
    this.free.length = 0;
    await this.runtime.close();
  }
}

class LlamaEmbedder implements Embedder {
  readonly role = 'embedder' as const;
  readonly backend = 'llama';
  dimensions = 0;
  private context?: LlamaEmbeddingContext;

  constructor(
    readonly name: string,
    private readonly options: LlamaOptions,
    private readonly runtime: LlamaRuntime,
  ) {}

  async load(): Promise<void> {
    const model = await this.runtime.load();
    this.context = await model.createEmbeddingContext({ contextSize: this.runtime.contextSize, threads: this.options.threads });
    this.dimensions = model.embeddingVectorSize;
  }

  async warmup(): Promise<void> {}

  /** llama.cpp embeds one text per evaluation here; the batcher still amortises queueing. */
  async embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const text of texts) {
      throwIfAborted(options.signal);
      if (!this.context) throw new ProntoError('not_ready', `Model ${this.name} is not loaded`);
      const tokens = this.runtime.model!.tokenize(text).slice(0, this.runtime.contextSize);
      out.push(normalize((await this.context.getEmbeddingFor(tokens)).vector));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.context?.dispose();
    this.context = undefined;
    await this.runtime.close();
  }
}

/**
 * A completion prompt from the configured template (`answer.prompt`) that fits the window with room
 * for the answer: passages that do not fit are dropped (the weakest first), and a question that
 * alone is too long keeps its end.
 */
export function fitPrompt<T = Token>(request: GenerateRequest, tokenize: (text: string) => T[], contextSize: number, maxTokens: number): T[] {
  const budget = Math.max(1, contextSize - Math.min(maxTokens, Math.floor(contextSize / 2)));
  const question = lastUserMessage(request.messages);
  const passages = passagesForModel(request);
  const template = (request.answer ?? DEFAULT_ANSWER).prompt;
  for (let kept = passages.length; kept >= 0; kept--) {
    const text = kept > 0 ? renderPrompt(template, passages.slice(0, kept), question) : question;
    const tokens = tokenize(text);
    if (tokens.length <= budget) return tokens;
    if (kept === 0) return tokens.slice(-budget);
  }
  return [];
}

function asUpstream(err: unknown): ProntoError {
  return new ProntoError('upstream_failed', `llama failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
