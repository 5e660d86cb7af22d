import { pino } from 'pino';
import { runsInPool } from '../../config/models.js';
import type { Config } from '../../config/schema.js';
import type { BackendModel } from '../../models/backend.js';
import { createBackendRegistry } from '../../models/registry.js';
import { warmUp } from '../../models/warmup.js';
import { createPooledBackend, poolThreads } from '../../models/worker-pool.js';
import { summarize } from './stats.js';

/**
 * The hardware limit: one model backend called directly in this process, one batch after
 * another at each batch size (no HTTP, no batcher, no admission). Serving throughput at the same
 * batch size is judged against this. A model that runs in the worker pool (`worker`, or its
 * backend's default) is measured through the pool, with one batch per thread at once: the pool's
 * limit, which is what a server with that config can reach.
 */
export async function offline(config: Config, modelName: string, options: { batchSizes: number[]; durationS: number }) {
  const model = config.models.find((m) => m.name === modelName);
  if (!model) throw new Error(`no model named "${modelName}" in the config`);
  const pooled = runsInPool(model);
  const factory = pooled ? createPooledBackend : createBackendRegistry().get(model.backend);
  if (!factory) throw new Error(`backend ${model.backend} is not available`);
  const threads = pooled ? poolThreads(model) : 1;
  const logger = pino({ level: 'warn' });
  const backend = await factory(model, { logger, dataDir: config.data_dir, model: () => Promise.reject(new Error('offline bench runs one model alone')) });
  await backend.load();
  await warmUp(backend, options.batchSizes);
  const signal = new AbortController().signal;
  const results = [];
  for (const size of options.batchSizes) {
    const durations: number[] = [];
    const startedAt = performance.now();
    const endAt = startedAt + options.durationS * 1000;
    let n = 0;
    const caller = async () => {
      while (performance.now() < endAt || durations.length < 3) {
        const inputs = Array.from({ length: size }, () => `benchmark sentence number ${n++}`);
        const sentAt = performance.now();
        await runOnce(backend, inputs, signal);
        durations.push(performance.now() - sentAt);
      }
    };
    await Promise.all(Array.from({ length: threads }, caller));
    const wallMs = performance.now() - startedAt;
    const batch = summarize(durations);
    results.push({ batch_size: size, batches: durations.length, items_per_s: Math.round((size * durations.length * 1000) / wallMs), batch_ms_p50: batch.p50, batch_ms_p99: batch.p99 });
  }
  await backend.close();
  return { model: modelName, backend: model.backend, pooled, threads, results };
}

async function runOnce(backend: BackendModel, inputs: string[], signal: AbortSignal): Promise<void> {
  switch (backend.role) {
    case 'embedder':
      await backend.embed(inputs, { signal });
      return;
    case 'reranker':
      await backend.rerank('benchmark query', inputs, { signal });
      return;
    case 'generator':
      for await (const _ of backend.generate({ messages: [{ role: 'user', content: inputs[0] }], contexts: [], maxTokens: 32 }, { signal }));
  }
}
