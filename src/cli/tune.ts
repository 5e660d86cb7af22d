import pino from 'pino';
import { loadConfig } from '../config/load.js';
import { createMetrics } from '../observability/metrics.js';
import { scopedNamespace } from '../pipeline/context.js';
import { createRetrieval } from '../retrieval/create-retrieval.js';
import { QueryAdapter } from '../retrieval/query-adapter.js';
import { fusionAsConfig } from '../retrieval/tuning/label-free.js';
import { UsageError } from './command.js';
import { openEmbedder } from './ingest.js';

/** `pronto tune`'s options, as commander parsed them (commands/tune.ts). */
export interface TuneCliOptions {
  tenant: string;
  queries: number;
  adapter?: boolean;
  adapterFile?: string;
  save: boolean;
  reset?: boolean;
  config?: string;
}

/**
 * `pronto tune NAMESPACE`: fits hybrid fusion to a namespace of the index without judged queries
 * (sentences held out of their own documents are the queries), stores it with the namespace in
 * the index — a new version, which every replica searching the namespace takes up (within
 * `retrieval.follow.poll_ms`, at once with the change feed on Redis) — and prints JSON: what the
 * pseudo-queries scored, the stored version, and the `retrieval` config that would apply the same
 * fusion to every namespace. `--reset` drops the namespace's tuning instead.
 */
export async function runTune(namespaceName: string, options: TuneCliOptions): Promise<void> {
  if (options.adapter && options.adapterFile) throw new UsageError('--adapter and --adapter-file exclude each other');
  if (options.reset && (options.adapter || options.adapterFile || !options.save))
    throw new UsageError('--reset takes no other tuning option');
  const config = loadConfig({ file: options.config });
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const retrieval = createRetrieval(config, { metrics: createMetrics({ defaultMetrics: false }), logger });
  const namespace = scopedNamespace(options.tenant, namespaceName);
  try {
    await retrieval.start();
    if (options.reset) {
      console.log(JSON.stringify({ namespace, reset: await retrieval.tuning.reset(namespace) }, null, 2));
      return;
    }
    if (!(await retrieval.namespaceExists(namespace))) throw new UsageError(`namespace ${namespace} does not exist in ${config.data_dir}`);
    const adapter = options.adapterFile ? await QueryAdapter.load(options.adapterFile) : options.adapter ? 'pseudo-queries' : undefined;
    const { embedder, close: closeModels } = await openEmbedder(config, logger);
    try {
      const started = performance.now();
      const fit = await retrieval.fitTuning(namespace, {
        embedder,
        pseudoQueries: options.queries,
        adapter,
        signal: new AbortController().signal,
        by: 'pronto tune',
      });
      const saved = options.save ? await retrieval.tuning.save(namespace, fit) : undefined;
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      console.log(
        JSON.stringify(
          {
            namespace,
            seconds,
            ...fit.report,
            fusion: fit.fusion,
            documents: fit.documents,
            stored: saved ? { version: saved.version, fitted_at: saved.fittedAt } : false,
            config: fusionAsConfig(fit.fusion, config.retrieval),
          },
          null,
          2,
        ),
      );
    } finally {
      await closeModels();
    }
  } finally {
    await retrieval.close();
  }
}
