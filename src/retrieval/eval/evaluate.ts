import type { Embedder, Reranker } from '../../models/types.js';
import type { QueryAdapter } from '../query-adapter.js';
import type { Retrieval } from '../retrieval.js';
import type { FusionMethod, Hit, SearchMode } from '../types.js';
import type { BeirDataset } from './beir.js';
import { mean, mrrAt, ndcgAt, percentile, recallAt } from './metrics.js';

export interface EvalOptions {
  namespace: string;
  mode: SearchMode;
  fusion: FusionMethod;
  embedder: Embedder;
  reranker?: Reranker;
  rerankTopN: number;
  /** Adapts query vectors before the search (cross-validation trains one per fold). */
  adapter?: QueryAdapter;
  /** Chunks to retrieve per query (enough for 100 distinct documents). */
  depth?: number;
}

/** One judged query's scores and timings. */
export interface QueryOutcome {
  ndcg10: number;
  recall10: number;
  recall100: number;
  mrr10: number;
  latencyMs: number;
  searchMs: number;
}

export interface EvalReport {
  queries: number;
  'ndcg@10': number;
  'recall@10': number;
  'recall@100': number;
  'mrr@10': number;
  /** Per query, end to end in process: embed the query, search, rerank. */
  latency_ms: { p50: number; p95: number; mean: number };
  /** The same without the query embedding (the index's own cost). */
  search_ms: { p50: number; p95: number; mean: number };
}

/**
 * Runs judged queries one at a time, as the search route does (embed, search, optional rerank of
 * the top candidates), and scores the document ranking: a document ranks where its best chunk does.
 */
export async function runQueries(
  retrieval: Retrieval,
  dataset: BeirDataset,
  queries: BeirDataset['queries'],
  options: EvalOptions,
): Promise<QueryOutcome[]> {
  const signal = new AbortController().signal;
  const outcomes: QueryOutcome[] = [];
  for (const query of queries) {
    const started = performance.now();
    let vector = options.mode === 'sparse' ? undefined : (await options.embedder.embed([query.text], { signal, input: 'query' }))[0];
    if (vector && options.adapter) vector = options.adapter.apply(vector);
    const embedded = performance.now();
    let hits = await retrieval.search({
      query: query.text,
      vector,
      namespace: options.namespace,
      topK: options.depth ?? 200,
      mode: options.mode,
      fusion: options.fusion,
      embedder: options.embedder,
      signal,
    });
    if (options.reranker) hits = await rerank(options.reranker, query.text, hits, options.rerankTopN, signal);
    const finished = performance.now();
    const ranked = rankDocuments(hits);
    const judged = dataset.qrels.get(query.id)!;
    outcomes.push({
      ndcg10: ndcgAt(ranked, judged, 10),
      recall10: recallAt(ranked, judged, 10),
      recall100: recallAt(ranked, judged, 100),
      mrr10: mrrAt(ranked, judged, 10),
      latencyMs: finished - started,
      searchMs: finished - embedded,
    });
  }
  return outcomes;
}

/** Means of the scores and percentiles of the timings. */
export function summarize(outcomes: QueryOutcome[]): EvalReport {
  const round = (x: number, digits = 4) => Number(x.toFixed(digits));
  const timing = (values: number[]) => ({
    p50: round(percentile(values, 50), 2),
    p95: round(percentile(values, 95), 2),
    mean: round(mean(values), 2),
  });
  const score = (pick: (o: QueryOutcome) => number) => round(mean(outcomes.map(pick)));
  return {
    queries: outcomes.length,
    'ndcg@10': score((o) => o.ndcg10),
    'recall@10': score((o) => o.recall10),
    'recall@100': score((o) => o.recall100),
    'mrr@10': score((o) => o.mrr10),
    latency_ms: timing(outcomes.map((o) => o.latencyMs)),
    search_ms: timing(outcomes.map((o) => o.searchMs)),
  };
}

/** The pipeline's rerank stage: re-score the head, keep the tail behind it in fused order. */
async function rerank(reranker: Reranker, query: string, hits: Hit[], topN: number, signal: AbortSignal): Promise<Hit[]> {
  const head = hits.slice(0, topN);
  const scores = await reranker.rerank(query, head.map((h) => (h.title ? `${h.title}\n${h.text}` : h.text)), { signal });
  const rescored = head.map((hit, i) => ({ ...hit, score: scores[i] })).sort((a, b) => b.score - a.score);
  return [...rescored, ...hits.slice(topN)];
}

/** Doc ids in order of their best chunk. */
export function rankDocuments(hits: Hit[]): string[] {
  return [...new Set(hits.map((h) => h.docId))];
}
