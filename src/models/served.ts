import type { Tracer } from '@opentelemetry/api';
import { ConcurrencyLimiter, AdmissionRejected } from '../core/limiter.js';
import { ProntoError } from '../core/errors.js';
import type { Metrics } from '../observability/metrics.js';
import { BatchedPool } from './batched-pool.js';
import type { ModelConfig } from '../config/models.js';
import { fallbackReason, streamWithFallback, withFallback } from './fallback.js';
import { batchMetrics } from './model-metrics.js';
import { batchSpans } from '../observability/tracing.js';
import { WARMUP_TEXT, type BatchTiming } from './warmup.js';
import type {
  CallOptions,
  Embedder,
  FallbackEvent,
  InputPrompts,
  GenerateRequest,
  GenerationStream,
  Generator,
  Model,
  ModelLifecycle,
  Reranker,
  TokenUsage,
  ToolCallRequest,
  ToolCallResult,
} from './types.js';

/**
 * What the pipeline calls: each configured model wrapped in its batchers (or, for streaming
 * generators, its concurrency slots), admission control and fallback chain. The backends behind
 * it are attached once they are loaded and warmed.
 */

export interface ServedDeps {
  metrics: Metrics;
  tracer?: Tracer;
  /** The next model of the chain (already served), when `fallback` is configured. */
  next(): Model | undefined;
}

/** Roughly four characters per token: the token budget of a batch is an estimate, not a tokenizer. */
const CHARS_PER_TOKEN = 4;
const approxTokens = (text: string) => Math.ceil(text.length / CHARS_PER_TOKEN);

abstract class ServedBase {
  readonly name: string;
  readonly backend: string;

  constructor(
    protected readonly config: ModelConfig,
    protected readonly deps: ServedDeps,
  ) {
    this.name = config.name;
    this.backend = config.backend;
  }

  /** Counted per model here; the caller's onFallback flags the request (and counts the degradation). */
  protected reportFallback = (_event: FallbackEvent) => {
    this.deps.metrics.modelCalls.inc({ model: this.name, outcome: 'fallback' });
  };

  protected observer() {
    const metrics = this.deps.metrics;
    const counted = batchMetrics(metrics, this.name);
    const spans = this.deps.tracer ? batchSpans(this.deps.tracer, this.name) : {};
    return {
      ...counted,
      batchStarted: (event: Parameters<NonNullable<typeof counted.batchStarted>>[0]) => {
        counted.batchStarted?.(event);
        spans.batchStarted?.(event);
      },
      batchFinished: (event: Parameters<NonNullable<typeof counted.batchFinished>>[0]) => {
        counted.batchFinished?.(event);
        spans.batchFinished?.(event);
      },
      rejected: (err: AdmissionRejected) => metrics.rejections.inc({ reason: `model_${err.reason}` }),
    };
  }
}

export class ServedEmbedder extends ServedBase implements Embedder {
  readonly role = 'embedder' as const;
  private readonly pool: BatchedPool<string, Float32Array>;
  private backends: Embedder[] = [];
  private inputPrompts: InputPrompts = {};

  constructor(config: ModelConfig, deps: ServedDeps) {
    super(config, deps);
    this.pool = new BatchedPool(config.name, config.batching, this.observer(), approxTokens);
  }

  /** Read through: remote backends learn their size from the first answer. */
  get dimensions(): number {
    return this.backends[0]?.dimensions ?? 0;
  }

  attach(backends: Array<Embedder & ModelLifecycle>, warmupTimings?: BatchTiming[]): void {
    this.backends = backends;
    this.inputPrompts = backends[0]?.prompts ?? {};
    this.pool.attach(
      backends.map((b) => (texts, signal) => b.embed(texts, { signal })),
      warmupTimings?.map((t) => ({ inputs: t.texts, ms: t.ms })),
      backends[0]?.blocksEventLoop,
    );
  }

  /**
   * Each text gets its kind's prompt here, before batching: a batch mixes calls of both kinds (and
   * of none). A fallback model applies its own prompts to the texts as given.
   */
  embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    const next = this.deps.next() as Embedder | undefined;
    const prompt = options.input ? this.inputPrompts[options.input] : undefined;
    const inputs = prompt ? texts.map((text) => prompt + text) : texts;
    return withFallback(
      this.name,
      options,
      () => this.pool.submit(inputs, options),
      next && { name: next.name, call: () => next.embed(texts, options) },
      this.reportFallback,
    );
  }

  workMs(items: number, chars: number): number | undefined {
    return this.pool.runMs(items, Math.ceil(chars / CHARS_PER_TOKEN));
  }

  close(): void {
    this.pool.close();
  }
}

interface RerankPair {
  query: string;
  document: string;
}

export class ServedReranker extends ServedBase implements Reranker {
  readonly role = 'reranker' as const;
  private readonly pool: BatchedPool<RerankPair, number>;

  constructor(config: ModelConfig, deps: ServedDeps) {
    super(config, deps);
    this.pool = new BatchedPool(config.name, config.batching, this.observer(), (p) => approxTokens(p.query) + approxTokens(p.document));
  }

  /** A batch may mix queries from several requests: each query's documents go to the backend together. */
  attach(backends: Array<Reranker & ModelLifecycle>, warmupTimings?: BatchTiming[]): void {
    this.pool.attach(
      backends.map((backend) => async (pairs, signal) => {
        const byQuery = new Map<string, number[]>();
        pairs.forEach((pair, i) => byQuery.set(pair.query, [...(byQuery.get(pair.query) ?? []), i]));
        const scores = new Array<number>(pairs.length);
        for (const [query, indexes] of byQuery) {
          const out = await backend.rerank(
            query,
            indexes.map((i) => pairs[i].document),
            { signal },
          );
          indexes.forEach((i, j) => (scores[i] = out[j]));
        }
        return scores;
      }),
      warmupTimings?.map((t) => ({ inputs: t.texts.map((document) => ({ query: WARMUP_TEXT, document })), ms: t.ms })),
      backends[0]?.blocksEventLoop,
    );
  }

  rerank(query: string, documents: string[], options: CallOptions): Promise<number[]> {
    const next = this.deps.next() as Reranker | undefined;
    return withFallback(
      this.name,
      options,
      () => this.pool.submit(documents.map((document) => ({ query, document })), options),
      next && { name: next.name, call: () => next.rerank(query, documents, options) },
      this.reportFallback,
    );
  }

  close(): void {
    this.pool.close();
  }
}

interface GeneratorSlot {
  backend: Generator;
  limiter: ConcurrencyLimiter;
}

/**
 * Generation streams, so it is not micro-batched here: each instance has `max_concurrent_batches`
 * slots (a llama context pool sized to match) and a bounded, admission-controlled wait for one.
 * A fallback serves only before the first token; after it, a failure ends the stream.
 */
export class ServedGenerator extends ServedBase implements Generator {
  readonly role = 'generator' as const;
  private slots: GeneratorSlot[] = [];

  attach(backends: Generator[]): void {
    const { max_concurrent_batches, max_queue_items } = this.config.batching;
    this.slots = backends.map((backend) => ({
      backend,
      limiter: new ConcurrencyLimiter({ maxConcurrent: max_concurrent_batches, maxQueue: max_queue_items }),
    }));
  }

  /** This model's stream, then (before its first token) the next model of the chain. */
  generate(request: GenerateRequest, options: CallOptions): GenerationStream {
    const next = this.deps.next() as Generator | undefined;
    const own = { name: this.name, start: () => this.generateHere(request, options) };
    return streamWithFallback(
      next ? [own, { name: next.name, start: () => next.generate(request, options) }] : [own],
      (err) => fallbackReason(err, options.signal),
      (event) => {
        this.reportFallback(event);
        options.onFallback?.(event);
      },
    );
  }

  /** One stream on this model's own backends, in a slot, counted ok or error. */
  private generateHere(request: GenerateRequest, options: CallOptions): GenerationStream {
    let usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0 };
    const self = this;
    async function* stream(): AsyncGenerator<string> {
      try {
        const source = await self.start(request, options);
        try {
          yield* source.stream;
          usage = source.stream.usage();
          self.deps.metrics.modelCalls.inc({ model: self.name, outcome: 'ok' });
        } finally {
          source.finish();
        }
      } catch (err) {
        if (!options.signal.aborted) self.deps.metrics.modelCalls.inc({ model: self.name, outcome: 'error' });
        throw err;
      }
    }
    return Object.assign(stream(), { usage: () => usage });
  }

  /**
   * One tool-calling turn on this model's own backend, in a slot, under the execution timeout.
   * No fallback: the chain's next model may not call tools, and the caller (the planner) treats
   * a failed turn as the end of its planning.
   */
  async callTools(request: ToolCallRequest, options: CallOptions): Promise<ToolCallResult> {
    const { slot, signal, finish } = await this.acquire(options);
    try {
      if (!slot.backend.callTools) {
        throw new ProntoError('unsupported_parameter', `Model ${this.name} (backend ${this.backend}) does not call tools`, { field: 'tools' });
      }
      const result = await slot.backend.callTools(request, { ...options, signal });
      this.deps.metrics.modelCalls.inc({ model: this.name, outcome: 'ok' });
      return result;
    } catch (err) {
      if (!options.signal.aborted) this.deps.metrics.modelCalls.inc({ model: this.name, outcome: 'error' });
      throw signal.aborted && !options.signal.aborted ? signal.reason : err;
    } finally {
      finish();
    }
  }

  close(): void {
    for (const slot of this.slots) slot.limiter.close(new ProntoError('shutting_down'));
  }

  /** Waits (admission-controlled) for a slot, then starts the backend's stream under the execution timeout. */
  private async start(request: GenerateRequest, options: CallOptions) {
    const { slot, signal, finish } = await this.acquire(options);
    return { stream: slot.backend.generate(request, { ...options, signal }), finish };
  }

  /** A slot (waited for, admission-controlled) and the signal of the execution timeout that starts with it. */
  private async acquire(options: CallOptions) {
    if (this.slots.length === 0) throw new ProntoError('not_ready', `Model ${this.name} is not loaded yet`);
    const { metrics } = this.deps;
    const { queue_timeout_ms, execution_timeout_ms } = this.config.batching;
    const slot = this.slots.reduce((a, b) => (b.limiter.running + b.limiter.waiting < a.limiter.running + a.limiter.waiting ? b : a));
    const queuedAt = performance.now();
    const depth = metrics.modelQueueDepth.labels({ model: this.name });
    depth.inc();
    let release: () => void;
    try {
      const waitSignal = AbortSignal.any([options.signal, AbortSignal.timeout(queue_timeout_ms)]);
      release = await slot.limiter.acquire({ signal: waitSignal, deadlineAt: options.deadlineAt, maxWaitMs: queue_timeout_ms });
    } catch (err) {
      if (err instanceof AdmissionRejected) metrics.rejections.inc({ reason: `model_${err.reason}` });
      if (!options.signal.aborted && !(err instanceof ProntoError)) {
        throw new ProntoError('overloaded', `Waited ${queue_timeout_ms} ms for a free ${this.name} slot`, { retryAfterS: 1 });
      }
      throw err;
    } finally {
      depth.dec();
    }
    metrics.batchWait.observe({ model: this.name }, (performance.now() - queuedAt) / 1000);
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new ProntoError('upstream_failed', `Generation ran past its ${execution_timeout_ms} ms execution timeout`)),
      execution_timeout_ms,
    );
    const signal = AbortSignal.any([options.signal, timeout.signal]);
    const startedAt = performance.now();
    return {
      slot,
      signal,
      finish: () => {
        clearTimeout(timer);
        release();
        metrics.inferenceDuration.observe({ model: this.name }, (performance.now() - startedAt) / 1000);
      },
    };
  }
}

export type ServedModel = ServedEmbedder | ServedReranker | ServedGenerator;
