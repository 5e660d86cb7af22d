import { join } from 'node:path';
import { DEFAULT_ADAPTER_TRAINING } from '../retrieval/adapter-training.js';
import { embedQueries, loadAdapterCorpus, trainQueryAdapter } from '../retrieval/eval/train-adapter.js';
import { withEvalIndex } from './eval-index.js';

/** `pronto train-adapter`'s options, as commander parsed them (commands/train-adapter.ts). */
export interface TrainAdapterCliOptions {
  split: string;
  out?: string;
  epochs?: number;
  temperature?: number;
  l2?: number;
  learningRate?: number;
  config?: string;
}

/**
 * `pronto train-adapter BEIR_DIR`: trains a query adapter on the split's judged queries against the
 * corpus (indexed as `pronto eval` indexes it) and writes it where `retrieval.query_adapter` can
 * name it. Train on a split you do not report scores on, or report `pronto eval --cv`.
 */
export async function runTrainAdapter(dir: string, values: TrainAdapterCliOptions): Promise<void> {
  const hyperparameters = {
    epochs: values.epochs ?? DEFAULT_ADAPTER_TRAINING.epochs,
    temperature: values.temperature ?? DEFAULT_ADAPTER_TRAINING.temperature,
    l2: values.l2 ?? DEFAULT_ADAPTER_TRAINING.l2,
    learningRate: values.learningRate ?? DEFAULT_ADAPTER_TRAINING.learningRate,
  };
  await withEvalIndex({ dir, split: values.split, configFile: values.config }, async (index) => {
    const out = values.out ?? join(index.config.data_dir, 'query-adapter.json');
    const started = performance.now();
    const corpus = await loadAdapterCorpus(index.store, index.namespace);
    const vectors = await embedQueries(index.embedder, index.dataset.queries);
    const adapter = trainQueryAdapter(corpus, index.dataset, index.dataset.queries, vectors, {
      ...hyperparameters,
      embedder: index.embedder.name,
      source: `${dir} ${values.split}`,
      onEpoch: (epoch, loss) => process.stderr.write(`epoch ${epoch}/${hyperparameters.epochs}: loss ${loss.toFixed(4)}\n`),
    });
    await adapter.save(out);
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    console.log(JSON.stringify({ out, seconds, ...adapter.info, use: `retrieval.query_adapter: ${out}` }, null, 2));
  });
}
