import cliProgress from 'cli-progress';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../config/load.js';
import { createMetrics } from '../observability/metrics.js';
import { scopedNamespace } from '../pipeline/context.js';
import { createRetrieval } from '../retrieval/create-retrieval.js';
import { expandPaths, ingestFiles } from '../retrieval/ingest-files.js';
import { createModelRuntime } from '../models/create-runtime.js';
import type { Config } from '../config/schema.js';
import type { Embedder } from '../models/types.js';

/**
 * `pronto ingest PATH...`: parses .jsonl/.md/.txt files (directories are walked) and ingests them
 * into `tenant/namespace` of the local index, with a progress bar on stderr and a JSON summary on
 * stdout. Bad lines and documents are listed in the summary; the rest are kept.
 */
export async function runIngest(paths: string[], options: { namespace?: string; tenant: string; config?: string }): Promise<void> {
  const config = loadConfig({ file: options.config });
  // A missing path fails before the models load.
  const files = await expandPaths(paths);
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const metrics = createMetrics({ defaultMetrics: false });
  const retrieval = createRetrieval(config, { metrics, logger });
  const { embedder, close: closeModels } = await openEmbedder(config, logger);
  const namespace = scopedNamespace(options.tenant, options.namespace ?? config.sample_corpus.namespace);
  const progress = progressBar();
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  try {
    await retrieval.start();
    const summary = await ingestFiles(retrieval, namespace, files, {
      embedder,
      signal: controller.signal,
      onProgress: progress.update,
    });
    progress.stop();
    console.log(JSON.stringify({ namespace, ...summary, failed: summary.failed.slice(0, 100) }, null, 2));
    if (summary.failed.length > 0) throw new Error(`${summary.failed.length} documents or lines failed (listed in the summary)`);
  } finally {
    progress.stop();
    await retrieval.close();
    await closeModels();
  }
}

/**
 * The configured embedder for the offline commands (ingest, eval), served by the model runtime
 * like in the server: micro-batched, admitted and warmed, with whatever backend the config names.
 */
export async function openEmbedder(config: Config, logger: Logger): Promise<{ embedder: Embedder; close: () => Promise<void> }> {
  const models = createModelRuntime(config, { metrics: createMetrics({ defaultMetrics: false }), logger });
  await models.start();
  return { embedder: models.embedder(config.pipeline.embedder), close: () => models.close() };
}

/** A docs/s + ETA progress bar on stderr (periodic lines when stderr is not a terminal). */
export function progressBar(): { update: (done: number, total: number) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    {
      format: 'ingest {bar} {percentage}% | {value}/{total} docs | {speed} docs/s | ETA {remaining}',
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = 0;
  let running = false;
  return {
    update(done, total) {
      if (!running) started = performance.now();
      const payload = progressPayload(done, total, (performance.now() - started) / 1000);
      if (!running) bar.start(total, done, payload);
      else bar.update(done, payload);
      running = true;
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/**
 * The bar's rate and ETA, from the documents done since the bar started. Our own: cli-progress
 * estimates from its update history, which a bar updated once per group of documents does not
 * have (it printed "ETA 0s" at 9%). The key is not `eta`: cli-progress writes its own value (raw
 * seconds) over a payload key of that name.
 */
export function progressPayload(done: number, total: number, seconds: number): { speed: string; remaining: string } {
  const rate = done / Math.max(1e-3, seconds);
  return { speed: rate.toFixed(1), remaining: done > 0 ? duration((total - done) / rate) : '…' };
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
