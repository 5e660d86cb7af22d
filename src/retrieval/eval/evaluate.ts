import type { Embedder, Reranker } from '../../models/types.js';
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
  limit?: number;
  /** Chunks to retrieve per query (enough for 100 distinct documents). */
  depth?: number;
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
 * Runs the judged queries one at a time, as the search route does (embed, search, optional
 * rerank of the top candidates), and scores the document ranking: a document ranks where its
 * best chunk does.
 */
export async function evaluate(retrieval: Retrieval, dataset: BeirDataset, options: EvalOptions): Promise<EvalReport> {
  const signal = new AbortController().signal;
  const queries = dataset.queries.slice(0, options.limit ?? dataset.queries.length);
  const scores = { ndcg: [] as number[], r10: [] as number[], r100: [] as number[], mrr: [] as number[] };
  const latencies: number[] = [];
  const searchLatencies: number[] = [];
  for (const query of queries) {
    const started = performance.now();
    const vector = options.mode === 'sparse' ? undefined : (await options.embedder.embed([query.text], { signal }))[0];
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
    latencies.push(performance.now() - started);
    searchLatencies.push(performance.now() - embedded);
    const ranked = rankDocuments(hits);
    const judged = dataset.qrels.get(query.id)!;
    scores.ndcg.push(ndcgAt(ranked, judged, 10));
    scores.r10.push(recallAt(ranked, judged, 10));
    scores.r100.push(recallAt(ranked, judged, 100));
    scores.mrr.push(mrrAt(ranked, judged, 10));
  }
  const round = (x: number, digits = 4) => Number(x.toFixed(digits));
  const summary = (values: number[]) => ({
    p50: round(percentile(values, 50), 2),
    p95: round(percentile(values, 95), 2),
    mean: round(mean(values), 2),
  });
  return {
    queries: queries.length,
    'ndcg@10': round(mean(scores.ndcg)),
    'recall@10': round(mean(scores.r10)),
    'recall@100': round(mean(scores.r100)),
    'mrr@10': round(mean(scores.mrr)),
    latency_ms: summary(latencies),
    search_ms: summary(searchLatencies),
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
