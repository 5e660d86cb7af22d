import { pino } from 'pino';
import { move, workerData } from 'piscina';
import type { ModelConfig } from '../config/models.js';
import { createBackendRegistry } from './registry.js';
import type { Embedder, ModelLifecycle } from './types.js';

/**
 * One thread of an embedder's worker pool (see ./worker-pool.ts): starts loading the backend when
 * the thread starts, then embeds one batch per task. The vectors come back packed end to end in one
 * Float32Array (texts.length × dimensions) whose buffer is transferred, not copied.
 */
const loaded = load(workerData.config as ModelConfig);
// A load failure is reported by the first task (the host's probe), not as an unhandled rejection.
loaded.catch(() => {});
const signal = new AbortController().signal;

async function load(config: ModelConfig): Promise<Embedder & ModelLifecycle> {
  const factory = createBackendRegistry().get(config.backend)!;
  const backend = (await factory(config, {
    logger: pino({ level: 'warn' }),
    model: () => Promise.reject(new Error('a model in a worker thread cannot use other models')),
  })) as Embedder & ModelLifecycle;
  await backend.load();
  return backend;
}

export default async function embedBatch(texts: string[]): Promise<Float32Array> {
  const vectors = await (await loaded).embed(texts, { signal });
  const dimensions = vectors[0]?.length ?? 0;
  const packed = new Float32Array(vectors.length * dimensions);
  vectors.forEach((v, i) => packed.set(v, i * dimensions));
  return move(packed) as Float32Array;
}
