import pino from 'pino';
import { loadConfig } from '../config/load.js';
import { createMetrics } from '../observability/metrics.js';
import { scopedNamespace } from '../pipeline/context.js';
import { createRetrieval } from '../retrieval/create-retrieval.js';
import type { LanceVectorStore } from '../retrieval/lance-store.js';
import { fitFusionLabelFree, settingAsConfig } from '../retrieval/tuning/label-free.js';
import { UsageError } from './command.js';
import { openEmbedder } from './ingest.js';

/** `pronto tune`'s options, as commander parsed them (commands/tune.ts). */
export interface TuneCliOptions {
  tenant: string;
  queries: number;
  adapterOut?: string;
  config?: string;
}

/**
 * `pronto tune NAMESPACE`: fits hybrid fusion to a namespace of the local index without judged
 * queries (sentences held out of their own documents are the queries) and prints JSON: what the
 * pseudo-queries scored, and the `retrieval` config that applies the chosen setting. With
 * `--adapter-out FILE` it also trains a query adapter on the same pseudo-queries and writes it.
 */
export async function runTune(namespaceName: string, options: TuneCliOptions): Promise<void> {
  const config = loadConfig({ file: options.config });
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const retrieval = createRetrieval(config, { metrics: createMetrics({ defaultMetrics: false }), logger });
  const { embedder, close: closeModels } = await openEmbedder(config, logger);
  const namespace = scopedNamespace(options.tenant, namespaceName);
  try {
    await retrieval.start();
    if (!(await retrieval.namespaceExists(namespace))) throw new UsageError(`namespace ${namespace} does not exist in ${config.data_dir}`);
    const started = performance.now();
    const store = retrieval.store as LanceVectorStore;
    const signal = new AbortController().signal;
    const fitted = await fitFusionLabelFree({ store, namespace, rc: config.retrieval, embedder }, options.queries, signal, { adapter: Boolean(options.adapterOut) });
    const tuned = settingAsConfig(fitted.chosen, config.retrieval);
    if (options.adapterOut) {
      await fitted.adapter!.save(options.adapterOut);
      tuned.retrieval.query_adapter = options.adapterOut;
    }
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    console.log(JSON.stringify({ namespace, seconds, ...fitted.report, adapter: fitted.adapter?.info, config: tuned }, null, 2));
  } finally {
    await retrieval.close();
    await closeModels();
  }
}
