import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ADAPTER_TRAINING } from '../retrieval/adapter-training.js';
import { embedQueries, loadAdapterCorpus, trainQueryAdapter } from '../retrieval/eval/train-adapter.js';
import { withEvalIndex } from './eval-index.js';

const USAGE = 'pronto train-adapter BEIR_DIR [--split train] [--out FILE] [--epochs N] [--temperature T] [--l2 L] [--learning-rate R] [--config FILE]';

/**
 * `pronto train-adapter BEIR_DIR`: trains a query adapter on the split's judged queries against the
 * corpus (indexed as `pronto eval` indexes it) and writes it where `retrieval.query_adapter` can
 * name it. Train on a split you do not report scores on, or report `pronto eval --cv`.
 */
export async function runTrainAdapter(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      split: { type: 'string', default: 'train' },
      out: { type: 'string' },
      epochs: { type: 'string' },
      temperature: { type: 'string' },
      l2: { type: 'string' },
      'learning-rate': { type: 'string' },
      config: { type: 'string' },
    },
  });
  const dir = positionals[0];
  if (!dir) throw new Error(`no BEIR_DIR given\nusage: ${USAGE}`);
  const number = (flag: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!(parsed >= 0)) throw new Error(`--${flag} is a non-negative number\nusage: ${USAGE}`);
    return parsed;
  };
  const hyperparameters = {
    epochs: Math.round(number('epochs', values.epochs, DEFAULT_ADAPTER_TRAINING.epochs)),
    temperature: number('temperature', values.temperature, DEFAULT_ADAPTER_TRAINING.temperature),
    l2: number('l2', values.l2, DEFAULT_ADAPTER_TRAINING.l2),
    learningRate: number('learning-rate', values['learning-rate'], DEFAULT_ADAPTER_TRAINING.learningRate),
  };
  await withEvalIndex({ dir, split: values.split!, configFile: values.config }, async (index) => {
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
