import type { Embedder, Generator, ModelInfo, Reranker } from './types.js';

/**
 * What the pipeline sees of the models: each model by name, already wrapped in its micro-batcher,
 * admission control, concurrency limits and fallback chain. `createModelRuntime` builds it from config.
 */
export interface ModelRuntime {
  list(): ModelInfo[];
  has(name: string): boolean;
  /** Throws ProntoError `unknown_model` (field `model`) for a name that is not an embedder. */
  embedder(name: string): Embedder;
  reranker(name: string): Reranker;
  generator(name: string): Generator;
  /** Loads and warms every model; resolves when all are ready (readiness waits for it). */
  start(): Promise<void>;
  readonly ready: boolean;
  close(): Promise<void>;
}
