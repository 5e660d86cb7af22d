import type { Config } from '../config/schema.js';
import { EmbedderReranker } from '../models/backends/embedder-rerank.js';
import type { Embedder, Reranker } from '../models/types.js';
import { DEFAULT_ADAPTER_TRAINING } from '../retrieval/adapter-training.js';
import { runQueries, summarize, type EvalOptions, type QueryOutcome } from '../retrieval/eval/evaluate.js';
import { embedQueries, loadAdapterCorpus, trainQueryAdapter } from '../retrieval/eval/train-adapter.js';
import { QueryAdapter } from '../retrieval/query-adapter.js';
import type { FusionMethod, SearchMode } from '../retrieval/types.js';
import { UsageError } from './command.js';
import { withEvalIndex, type EvalIndex } from './eval-index.js';

/** `pronto eval`'s options, as commander parsed them (commands/eval.ts). */
export interface EvalCliOptions {
  split: string;
  mode?: SearchMode;
  fusion?: FusionMethod;
  rerank: boolean;
  adapter?: string;
  cv?: number;
  limit?: number;
  config?: string;
}

/**
 * `pronto eval BEIR_DIR`: ingests the corpus into a scratch namespace (once per corpus hash,
 * embedder and chunking: later runs reuse it), runs every judged query of the split one at a time
 * and prints JSON with nDCG@10, recall@10, recall@100, MRR@10 and query latency percentiles.
 * `--adapter FILE` (or `retrieval.query_adapter`) adapts query vectors; `--cv K` instead trains a
 * query adapter on K-1 folds of the split's queries and scores the held-out fold, K times.
 */
export async function runEval(dir: string, values: EvalCliOptions): Promise<void> {
  const folds = values.cv ?? 0;
  await withEvalIndex({ dir, split: values.split, configFile: values.config }, async (index) => {
    const mode = values.mode ?? index.config.retrieval.default_mode;
    const fusion = values.fusion ?? index.config.retrieval.fusion;
    if (mode === 'sparse' && (folds || values.adapter)) throw new UsageError('a query adapter acts on dense search: use --mode dense or hybrid');
    const queries = index.dataset.queries.slice(0, values.limit);
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
