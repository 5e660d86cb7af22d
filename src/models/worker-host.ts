import { Worker } from 'node:worker_threads';
import { raceAbort } from '../core/deadline.js';
import { ProntoError } from '../core/errors.js';
import type { ModelConfig } from '../config/models.js';
import type { BackendModel } from './backend.js';
import type { CallOptions, Embedder } from './types.js';

type Reply = { id: number; vectors?: Float32Array[]; error?: string };

/**
 * An embedder whose backend runs in a worker thread (`worker: true` on the model). Backends that
 * compute on the event-loop thread (use-lite's tfjs) otherwise stop the server from reading and
 * answering requests for the whole of every batch; in a worker, HTTP work and inference overlap.
 * The worker loads TypeScript through tsx, as the CLI does (workers do not inherit module hooks).
 */
export class WorkerEmbedder implements Embedder {
  readonly role = 'embedder' as const;
  readonly backend: string;
  readonly name: string;
  dimensions = 0;
  private worker?: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(v: Float32Array[]): void; reject(e: unknown): void }>();

  constructor(private readonly config: ModelConfig) {
    this.name = config.name;
    this.backend = config.backend;
  }

  async load(): Promise<void> {
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL(import.meta.url.endsWith('.ts') ? './worker-entry.ts' : './worker-entry.js', import.meta.url).href;
    const code = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { workerData: { config: this.config } });
    this.worker = worker;
    const started = await new Promise<{ ready: boolean; dimensions?: number; error?: string }>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (err: Error) => resolve({ ready: false, error: err.message }));
    });
    if (!started.ready) {
      await this.close();
      throw new Error(`model ${this.name}: the worker could not load it: ${started.error}`);
    }
    this.dimensions = started.dimensions ?? 0;
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => this.failAll(new Error(`the worker exited with code ${code}`)));
  }

  async warmup(): Promise<void> {}

  embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    if (!this.worker) return Promise.reject(new ProntoError('not_ready', `Model ${this.name} is not loaded`));
    if (texts.length === 0) return Promise.resolve([]);
    const id = this.nextId++;
    const answer = new Promise<Float32Array[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ id, texts });
    // An abort answers the caller at once; the worker finishes the batch and its reply is dropped.
    return raceAbort(answer, options.signal);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private settle(reply: Reply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (reply.error !== undefined) waiter.reject(new ProntoError('upstream_failed', `model ${this.name}: ${reply.error}`));
    else waiter.resolve(reply.vectors!);
  }

  private failAll(err: unknown): void {
    for (const waiter of this.pending.values()) waiter.reject(new ProntoError('upstream_failed', `model ${this.name}: ${(err as Error).message}`, { cause: err }));
    this.pending.clear();
  }
}

export function createWorkerBackend(config: ModelConfig): BackendModel {
  if (config.role !== 'embedder') throw new Error(`config: model "${config.name}": worker: true is supported for embedders only`);
  return new WorkerEmbedder(config);
}
