import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { ModelConfig } from '../config/models.js';
import { createBackendRegistry } from './registry.js';
import type { Embedder } from './types.js';

/**
 * Runs one embedder backend inside a worker thread (see ./worker-host.ts): loads it, then answers
 * `{id, texts}` with `{id, vectors}` (buffers transferred, not copied) or `{id, error}`.
 */
const config = workerData.config as ModelConfig;
const port = parentPort!;
const factory = createBackendRegistry().get(config.backend)!;
const backend = (await factory(config, {
  logger: pino({ level: 'warn' }),
  model: () => Promise.reject(new Error('a model in a worker thread cannot use other models')),
})) as Embedder & { load(): Promise<void> };
const signal = new AbortController().signal;

try {
  await backend.load();
  port.postMessage({ ready: true, dimensions: backend.dimensions });
} catch (err) {
  port.postMessage({ ready: false, error: (err as Error).message });
}

port.on('message', async ({ id, texts }: { id: number; texts: string[] }) => {
  try {
    const vectors = await backend.embed(texts, { signal });
    port.postMessage({ id, vectors }, vectors.map((v) => v.buffer as ArrayBuffer));
  } catch (err) {
    port.postMessage({ id, error: (err as Error).message });
  }
});
