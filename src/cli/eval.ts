import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.js';
import { EmbedderReranker } from '../models/backends/embedder-rerank.js';
import type { Embedder, Reranker } from '../models/types.js';
import { DEFAULT_ADAPTER_TRAINING } from '../retrieval/adapter-training.js';
import { runQueries, summarize, type EvalOptions, type QueryOutcome } from '../retrieval/eval/evaluate.js';
import { embedQueries, loadAdapterCorpus, trainQueryAdapter } from '../retrieval/eval/train-adapter.js';
import { QueryAdapter } from '../retrieval/query-adapter.js';
import type { FusionMethod, SearchMode } from '../retrieval/types.js';
import { withEvalIndex, type EvalIndex } from './eval-index.js';

const USAGE =
  'pronto eval BEIR_DIR [--split train|test] [--mode dense|sparse|hybrid] [--fusion rrf|weighted] [--rerank] [--adapter FILE | --cv K] [--limit N] [--config FILE]';

/**
 * `pronto eval BEIR_DIR`: ingests the corpus into a scratch namespace (once per corpus hash,
 * embedder and chunking: later runs reuse it), runs every judged query of the split one at a time
 * and prints JSON with nDCG@10, recall@10, recall@100, MRR@10 and query latency percentiles.
 * `--adapter FILE` (or `retrieval.query_adapter`) adapts query vectors; `--cv K` instead trains a
 * query adapter on K-1 folds of the split's queries and scores the held-out fold, K times.
 */
export async function runEval(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      split: { type: 'string', default: 'test' },
      mode: { type: 'string' },
      fusion: { type: 'string' },
      rerank: { type: 'boolean', default: false },
      adapter: { type: 'string' },
      cv: { type: 'string' },
      limit: { type: 'string' },
      config: { type: 'string' },
    },
  });
  const dir = positionals[0];
  if (!dir) throw new Error(`no BEIR_DIR given\nusage: ${USAGE}`);
  const folds = values.cv === undefined ? 0 : Number(values.cv);
  if (values.cv !== undefined && !(Number.isInteger(folds) && folds >= 2)) throw new Error(`--cv is a whole number of folds, at least 2\nusage: ${USAGE}`);
  if (folds && values.adapter) throw new Error(`--adapter and --cv exclude each other\nusage: ${USAGE}`);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new Error(`--limit is a whole number of queries, at least 1\nusage: ${USAGE}`);

  await withEvalIndex({ dir, split: values.split!, configFile: values.config }, async (index) => {
    const mode = (values.mode ?? index.config.retrieval.default_mode) as SearchMode;
    if (!['dense', 'sparse', 'hybrid'].includes(mode)) throw new Error(`--mode is dense, sparse or hybrid\nusage: ${USAGE}`);
    const fusion = (values.fusion ?? index.config.retrieval.fusion) as FusionMethod;
    if (!['rrf', 'weighted'].includes(fusion)) throw new Error(`--fusion is rrf or weighted\nusage: ${USAGE}`);
    if (mode === 'sparse' && (folds || values.adapter)) throw new Error(`a query adapter acts on dense search: use --mode dense or hybrid\nusage: ${USAGE}`);
    const queries = index.dataset.queries.slice(0, limit);
    const options: EvalOptions = {
      namespace: index.namespace,
      mode,
      fusion,
      embedder: index.embedder,
      reranker: values.rerank ? openReranker(index.config, index.embedder) : undefined,
      rerankTopN: index.config.retrieval.rerank.top_n,
    };
    let outcomes: QueryOutcome[];
    let adapter: Record<string, unknown> | undefined;
    if (folds) {
      outcomes = await crossValidate(index, queries, options, folds);
      adapter = { cross_validation_folds: folds, ...DEFAULT_ADAPTER_TRAINING };
    } else {
      const file = values.adapter ?? index.config.retrieval.query_adapter;
      options.adapter = file ? await QueryAdapter.load(file) : undefined;
      adapter = options.adapter && { file, ...options.adapter.info };
      outcomes = await runQueries(index.retrieval, index.dataset, queries, options);
    }
    const report = summarize(outcomes);
    console.log(
      JSON.stringify(
        { dataset: dir, split: values.split, mode, fusion: mode === 'hybrid' ? fusion : undefined, rerank: values.rerank, adapter, ...report, ingest: index.ingest },
        null,
        2,
      ),
    );
  });
}

/** K-fold: query i is held out in fold i mod K; each fold is scored by an adapter trained on the others. */
async function crossValidate(index: EvalIndex, queries: EvalIndex['dataset']['queries'], options: EvalOptions, folds: number): Promise<QueryOutcome[]> {
  const corpus = await loadAdapterCorpus(index.store, index.namespace);
  const vectors = await embedQueries(index.embedder, queries);
  const outcomes: QueryOutcome[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const heldOut = queries.filter((_, i) => i % folds === fold);
    const training = queries.filter((_, i) => i % folds !== fold);
    process.stderr.write(`fold ${fold + 1}/${folds}: training on ${training.length} queries, scoring ${heldOut.length}\n`);
    const adapter = trainQueryAdapter(corpus, index.dataset, training, vectors, {
      ...DEFAULT_ADAPTER_TRAINING,
      embedder: index.embedder.name,
      source: `fold ${fold + 1}/${folds}`,
    });
    outcomes.push(...(await runQueries(index.retrieval, index.dataset, heldOut, { ...options, adapter })));
  }
  return outcomes;
}

/** The embedder-rerank reranker over the eval's embedder (the default reranker with embedded models). */
function openReranker(config: Config, embedder: Embedder): Reranker {
  const name = config.pipeline.reranker ?? 'embedder-rerank';
  return new EmbedderReranker(name, embedder);
}
