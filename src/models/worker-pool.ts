import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { raceAbort } from '../core/deadline.js';
import { ConfigError, ProntoError } from '../core/errors.js';
import { modelKey } from './options.js';
import type { ModelConfig } from '../config/models.js';
import type { BackendContext, BackendModel } from './backend.js';
import type { CallOptions, Embedder, InputPrompts } from './types.js';

/**
 * An embedder whose backend runs in a pool of worker threads (piscina), one copy of the model per
 * thread. Backends that compute in JavaScript or WASM (use-lite's tfjs, the static embedder) would
 * otherwise stop the server from reading and answering requests for the whole of every batch; in
 * the pool, HTTP work and inference overlap and `threads` batches run at once.
 *
 * A thread that dies mid-batch (a crash in the backend, an out-of-memory kill) fails that batch
 * with `upstream_failed` saying so, and piscina starts a replacement; the batch is not retried,
 * since the input that killed one thread would likely kill the next.
 */
export class PooledEmbedder implements Embedder {
  readonly role = 'embedder' as const;
  readonly backend: string;
  readonly name: string;
  dimensions = 0;
  prompts?: InputPrompts;
  private pool?: Piscina<string[], Float32Array>;

  constructor(
    private readonly config: ModelConfig,
    readonly threads: number,
    private readonly dataDir?: string,
  ) {
    this.name = config.name;
    this.backend = config.backend;
  }

  async load(): Promise<void> {
    // The model is in the threads, but its prompts are applied here, before batching (served.ts):
    // they come from config alone (only onnx has any).
    if (this.config.backend === 'onnx') this.prompts = (await import('./backends/onnx.js')).onnxPrompts(this.config);
    const fromSource = import.meta.url.endsWith('.ts');
    this.pool = new Piscina({
      filename: new URL(fromSource ? './pool-worker-tsx.mjs' : './pool-worker.js', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      // One batch per thread at a time; the batcher in front queues the rest (and admits by it).
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      workerData: { config: this.config, dataDir: this.dataDir },
    });
    // A thread loads the model on its first task. One thread first, so a model that builds a
    // cached file on first start (the static embedder's table) builds it once, then the others.
    try {
      this.dimensions = (await this.pool.run(['load probe'])).length;
      await Promise.all(Array.from({ length: this.threads - 1 }, () => this.pool!.run(['load probe'])));
    } catch (err) {
      await this.close();
      throw new Error(`model ${this.name}: the worker pool could not load it: ${(err as Error).message}`, { cause: err });
    }
  }

  async warmup(): Promise<void> {}

  async embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    if (!this.pool) throw new ProntoError('not_ready', `Model ${this.name} is not loaded`);
    if (texts.length === 0) return [];
    // An abort answers the caller at once; the thread finishes the batch and its answer is dropped
    // (aborting a piscina task would kill the thread, and reloading the model costs seconds).
    const task = this.pool.run(texts).catch((err: Error) => {
      throw new ProntoError('upstream_failed', `model ${this.name}: its worker thread failed during the batch: ${err.message}`, { cause: err });
    });
    const packed = await raceAbort(task, options.signal);
    const dimensions = packed.length / texts.length;
    return texts.map((_, i) => packed.subarray(i * dimensions, (i + 1) * dimensions));
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (!pool) return;
    // A batch still running (its caller aborted, or a warmup) can answer after destroy() has
    // dropped its task; piscina reports that answer as an 'error' event ("Unexpected message from
    // Worker"), which with no listener would crash the process. Nobody waits for it any more.
    pool.on('error', () => undefined);
    await pool.destroy();
  }
}

/** Threads for a pooled model: `worker_threads` when set, else one per core but one, at least one. */
export function poolThreads(config: ModelConfig): number {
  return config.worker_threads ?? Math.max(1, availableParallelism() - 1);
}

export function createPooledBackend(config: ModelConfig, context: Pick<BackendContext, 'dataDir'>): BackendModel {
  if (config.role !== 'embedder') throw new ConfigError(`${modelKey(config)}.worker`, 'the worker pool runs embedders only');
  return new PooledEmbedder(config, poolThreads(config), context.dataDir);
}
