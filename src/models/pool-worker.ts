import { pino } from 'pino';
import { move, workerData } from 'piscina';
import type { ModelConfig } from '../config/models.js';
import { createBackendRegistry } from './registry.js';
import type { Embedder, ModelLifecycle } from './types.js';

/**
 * One thread of an embedder's worker pool (see ./worker-pool.ts): loads the backend on its first
 * task, then embeds one batch per task. The vectors come back packed end to end in one
 * Float32Array (texts.length × dimensions) whose buffer is transferred, not copied.
 */
const { config, dataDir } = workerData as { config: ModelConfig; dataDir?: string };
let loaded: Promise<Embedder & ModelLifecycle> | undefined;
const signal = new AbortController().signal;

async function load(): Promise<Embedder & ModelLifecycle> {
  const factory = createBackendRegistry().get(config.backend)!;
  const backend = (await factory(config, {
    logger: pino({ level: 'warn' }),
    model: () => Promise.reject(new Error('a model in a worker thread cannot use other models')),
    dataDir,
  })) as Embedder & ModelLifecycle;
  await backend.load();
  return backend;
}

export default async function embedBatch(texts: string[]): Promise<Float32Array> {
  loaded ??= load();
  const vectors = await (await loaded).embed(texts, { signal });
  const dimensions = vectors[0]?.length ?? 0;
  const packed = new Float32Array(vectors.length * dimensions);
  vectors.forEach((v, i) => packed.set(v, i * dimensions));
  return move(packed) as Float32Array;
}
