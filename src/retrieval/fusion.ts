import type { FusionMethod, Hit } from './types.js';

export interface FusionWeights {
  dense: number;
  sparse: number;
}

/**
 * How weighted fusion puts one list's scores on a common scale:
 * - `minmax`: (s - min) / (max - min) over the list, so the list spans [0, 1];
 * - `max`: s / max (BM25: keeps how far the tail is from the best hit);
 * - `zscore`: (s - mean) / std over the list;
 * - `raw`: as scored (cosine similarities are already comparable across queries).
 */
export type Normalization = 'minmax' | 'max' | 'zscore' | 'raw';

export interface FusionOptions {
  method: FusionMethod;
  topK: number;
  weights: FusionWeights;
  /** RRF's rank offset: larger values flatten the difference between top ranks. */
  rrfK: number;
  normalization?: { dense: Normalization; sparse: Normalization };
  /** Weighted fusion only: scale the dense weight down as the two lists agree (see denseShare). */
  agreement?: AgreementGate;
}

/**
 * How much the dense list may move a query's ranking, from how far the two lists already agree:
 * the share of documents the top `depth` of each list have in common. At `full` agreement or above
 * the dense weight is 0 (BM25's order stands); with no overlap it is the configured weight; linear
 * between. Fitted by 5-fold cross-validation on SciFact train (docs/BENCHMARKS.md): where BM25 and
 * the embedder already agree, the dense scores only reshuffle BM25's good head; where they disagree,
 * BM25 is more often lost and the dense list is worth hearing.
 */
export interface AgreementGate {
  depth: number;
  full: number;
}

/**
 * Fuses a dense and a sparse ranked list (each best first) into one list of `topK` hits.
 * - `rrf`: reciprocal rank fusion, score = sum of weight / (k + rank); needs no score calibration.
 * - `weighted`: each list's scores normalised (see Normalization), then a weighted sum; a hit
 *   missing from one list gets that list's lowest normalised score (it ranked below all of them).
 */
export function fuse(dense: Hit[], sparse: Hit[], options: FusionOptions): Hit[] {
  const denseWeight = options.method === 'weighted' && options.agreement ? options.weights.dense * denseShare(dense, sparse, options.agreement) : options.weights.dense;
  const lists: Array<[Hit[], number, Normalization]> = [
    [dense, denseWeight, options.normalization?.dense ?? 'minmax'],
    [sparse, options.weights.sparse, options.normalization?.sparse ?? 'minmax'],
  ];
  const scored = new Map<string, { hit: Hit; score: number }>();
  for (const [hits] of lists) for (const hit of hits) if (!scored.has(hit.id)) scored.set(hit.id, { hit, score: 0 });
  for (const [hits, weight, normalization] of lists) {
    if (weight === 0 || hits.length === 0) continue;
    const contribution = new Map<string, number>();
    if (options.method === 'rrf') {
      hits.forEach((hit, rank) => contribution.set(hit.id, 1 / (options.rrfK + rank + 1)));
    } else {
      const normalized = normalize(hits.map((h) => h.score), normalization);
      hits.forEach((hit, i) => contribution.set(hit.id, normalized[i]));
    }
    const floor = options.method === 'rrf' ? 0 : Math.min(...contribution.values());
    for (const [id, entry] of scored) entry.score += weight * (contribution.get(id) ?? floor);
  }
  return [...scored.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, options.topK)
    .map(({ hit, score }) => ({ ...hit, score }));
}

/** 1 - overlap / full, clamped to [0, 1]: overlap is the share of the top `depth` documents both lists hold. */
export function denseShare(dense: Hit[], sparse: Hit[], gate: AgreementGate): number {
  const top = (hits: Hit[]) => [...new Set(hits.map((h) => h.docId))].slice(0, gate.depth);
  const sparseTop = new Set(top(sparse));
  const overlap = top(dense).filter((docId) => sparseTop.has(docId)).length / gate.depth;
  return Math.max(0, 1 - overlap / gate.full);
}

function normalize(scores: number[], how: Normalization): number[] {
  const min = Math.min(...scores);
  const max = Math.max(...scores);
  switch (how) {
    case 'raw':
      return scores;
    case 'max':
      return scores.map((s) => (max > 0 ? s / max : 0));
    case 'zscore': {
      const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
      const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
      return scores.map((s) => (std > 0 ? (s - mean) / std : 0));
    }
    case 'minmax':
      return scores.map((s) => (max > min ? (s - min) / (max - min) : 1));
  }
}
