import type { FusionMethod, Hit } from './types.js';

export interface FusionWeights {
  dense: number;
  sparse: number;
}

export interface FusionOptions {
  method: FusionMethod;
  topK: number;
  weights: FusionWeights;
  /** RRF's rank offset: larger values flatten the difference between top ranks. */
  rrfK: number;
}

/**
 * Fuses a dense and a sparse ranked list (each best first) into one list of `topK` hits.
 * - `rrf`: reciprocal rank fusion, score = sum of weight / (k + rank); needs no score calibration.
 * - `weighted`: each list's scores min-max normalised to [0, 1], then a weighted sum; a hit missing
 *   from one list gets 0 from it.
 */
export function fuse(dense: Hit[], sparse: Hit[], options: FusionOptions): Hit[] {
  const scored = new Map<string, { hit: Hit; score: number }>();
  const add = (hits: Hit[], weight: number, contribution: (hit: Hit, rank: number) => number) => {
    hits.forEach((hit, rank) => {
      const entry = scored.get(hit.id) ?? { hit, score: 0 };
      entry.score += weight * contribution(hit, rank);
      scored.set(hit.id, entry);
    });
  };
  if (options.method === 'rrf') {
    const rrf = (_hit: Hit, rank: number) => 1 / (options.rrfK + rank + 1);
    add(dense, options.weights.dense, rrf);
    add(sparse, options.weights.sparse, rrf);
  } else {
    add(dense, options.weights.dense, minMax(dense));
    add(sparse, options.weights.sparse, minMax(sparse));
  }
  return [...scored.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, options.topK)
    .map(({ hit, score }) => ({ ...hit, score }));
}

function minMax(hits: Hit[]): (hit: Hit) => number {
  if (hits.length === 0) return () => 0;
  let min = Infinity;
  let max = -Infinity;
  for (const hit of hits) {
    min = Math.min(min, hit.score);
    max = Math.max(max, hit.score);
  }
  const range = max - min;
  return (hit) => (range > 0 ? (hit.score - min) / range : 1);
}
