import { pino } from 'pino';
import type { Config } from '../../config/schema.js';
import type { BackendModel } from '../../models/backend.js';
import { createBackendRegistry } from '../../models/registry.js';
import { warmUp } from '../../models/warmup.js';
import { summarize } from './stats.js';

/**
 * The hardware limit: one model backend called directly in this process, one batch after
 * another at each batch size (no HTTP, no batcher, no admission). Serving throughput at the same
 * batch size is judged against this.
 */
export async function offline(config: Config, modelName: string, options: { batchSizes: number[]; durationS: number }) {
  const model = config.models.find((m) => m.name === modelName);
  if (!model) throw new Error(`no model named "${modelName}" in the config`);
  const factory = createBackendRegistry().get(model.backend);
  if (!factory) throw new Error(`backend ${model.backend} is not available`);
  const logger = pino({ level: 'warn' });
  const backend = await factory(model, { logger, dataDir: config.data_dir, model: () => Promise.reject(new Error('offline bench runs one model alone')) });
  await backend.load();
  await warmUp(backend, options.batchSizes);
  const signal = new AbortController().signal;
  const results = [];
  for (const size of options.batchSizes) {
    const durations: number[] = [];
    const endAt = performance.now() + options.durationS * 1000;
    let n = 0;
    while (performance.now() < endAt || durations.length < 3) {
      const inputs = Array.from({ length: size }, () => `benchmark sentence number ${n++}`);
      const startedAt = performance.now();
      await runOnce(backend, inputs, signal);
      durations.push(performance.now() - startedAt);
    }
    const totalMs = durations.reduce((a, b) => a + b, 0);
    const batch = summarize(durations);
    results.push({ batch_size: size, batches: durations.length, items_per_s: Math.round((size * durations.length * 1000) / totalMs), batch_ms_p50: batch.p50, batch_ms_p99: batch.p99 });
  }
  await backend.close();
  return { model: modelName, backend: model.backend, results };
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
