import { Type, type Static } from '@sinclair/typebox';

/** Micro-batching, admission and concurrency settings for one model (see docs/CONFIG.md). */
export const BatchingSchema = Type.Object(
  {
    max_batch_size: Type.Integer({ minimum: 1, default: 64 }),
    max_wait_ms: Type.Number({ minimum: 0, default: 2 }),
    /** Optional cap on the sum of input characters/4 per batch, for text models. */
    max_batch_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
    max_queue_items: Type.Integer({ minimum: 1, default: 4096 }),
    max_concurrent_batches: Type.Integer({ minimum: 1, default: 1 }),
    instances: Type.Integer({ minimum: 1, default: 1 }),
    /** How long an item may wait in the queue before it is dropped, whatever its deadline. */
    queue_timeout_ms: Type.Number({ minimum: 1, default: 5000 }),
    /** The same for bulk (ingest) items, which wait behind every interactive one. */
    bulk_queue_timeout_ms: Type.Number({ minimum: 1, default: 120000 }),
    /** How long one batch may run before it is failed. */
    execution_timeout_ms: Type.Number({ minimum: 1, default: 30000 }),
  },
  { default: {} },
);

export const ModelSchema = Type.Object({
  name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._:/-]+$' }),
  role: Type.Union([Type.Literal('embedder'), Type.Literal('reranker'), Type.Literal('generator')]),
  backend: Type.Union([
    Type.Literal('use-lite'),
    Type.Literal('static'),
    Type.Literal('onnx'),
    Type.Literal('llama'),
    Type.Literal('openai'),
    Type.Literal('extractive'),
    Type.Literal('sim'),
    Type.Literal('embedder-rerank'),
  ]),
  /** Backend-specific options (model path, base URL, sim costs...), validated by the backend. */
  options: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
  batching: BatchingSchema,
  /** Inputs run at start for every listed batch size before /readyz turns 200. */
  warmup: Type.Object(
    { batch_sizes: Type.Array(Type.Integer({ minimum: 1 }), { default: [1, 8] }) },
    { default: {} },
  ),
  /** The model that serves when this one is overloaded, failing or too slow (a chain). */
  fallback: Type.Optional(Type.String()),
  /**
   * Run the backend in a pool of worker threads (embedders), one model copy per thread, so HTTP
   * work and inference overlap. Defaults to true for backends that compute in JavaScript/WASM on
   * the calling thread (see POOLED_BY_DEFAULT), false otherwise.
   */
  worker: Type.Optional(Type.Boolean()),
  /** Threads of that pool; default one per core but one, at least one. */
  worker_threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
});

export type ModelConfig = Static<typeof ModelSchema>;

/**
 * Backends that compute on the calling thread and serve better in the pool than in-thread, as
 * measured per backend over HTTP (docs/BENCHMARKS.md, "Pool against in-thread"): use-lite holds the
 * event loop for whole batches in-thread; the static embedder is 1.04–1.42× faster in-thread.
 */
export const POOLED_BY_DEFAULT: ReadonlySet<string> = new Set(['use-lite']);

/** Whether the model runs in a worker pool: its `worker` setting, else its backend's default. */
export function runsInPool(model: ModelConfig): boolean {
  return model.role === 'embedder' && (model.worker ?? POOLED_BY_DEFAULT.has(model.backend));
}
export type BatchingConfig = Static<typeof BatchingSchema>;

export const DEFAULT_MODELS: ModelConfig[] = [
  {
    name: 'use-lite',
    role: 'embedder',
    backend: 'use-lite',
    options: {},
    batching: {
      max_batch_size: 64,
      max_wait_ms: 2,
      max_queue_items: 4096,
      max_concurrent_batches: 1,
      instances: 1,
      queue_timeout_ms: 5000,
      bulk_queue_timeout_ms: 120000,
      execution_timeout_ms: 30000,
    },
    warmup: { batch_sizes: [1, 8, 64] },
  },
  {
    name: 'extractive',
    role: 'generator',
    backend: 'extractive',
    options: {},
    batching: {
      max_batch_size: 1,
      max_wait_ms: 0,
      max_queue_items: 1024,
      max_concurrent_batches: 8,
      instances: 1,
      queue_timeout_ms: 5000,
      bulk_queue_timeout_ms: 120000,
      execution_timeout_ms: 30000,
    },
    warmup: { batch_sizes: [1] },
  },
];
