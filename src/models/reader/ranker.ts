import fitted from './ranker-weights.json' with { type: 'json' };
import { FEATURES, type Candidate } from './features.js';

/**
 * The sentence ranker: a linear score over a sentence's features (./features.ts), read as a
 * choice among the question's sentences and "none of them" (a conditional logit whose "none"
 * scores 0): P(sentence i answers) = e^sᵢ / (1 + Σⱼ e^sⱼ). The weights are fitted by
 * bench/fit-reader.ts on NQ-open dev and shipped in ranker-weights.json with their
 * cross-validated figures; the same script chooses the thresholds below.
 */
export interface RankerModel {
  /** Feature names, in the order of `weights`: must be FEATURES (checked at load). */
  features: readonly string[];
  weights: number[];
  /** The score's constant: how a sentence compares with "none of them" before its features count. */
  bias: number;
  /** P(some sentence answers) under which the reader declines. */
  abstain: number;
  /** Question coverage (IDF-weighted, with its title) of the best sentence under which the reader declines. */
  min_coverage: number;
  /** A further sentence is evidence when its P is at least this share of the best one's. */
  support: number;
}

export const SHIPPED_RANKER: RankerModel = checked(fitted);

/** Scores and the probability each candidate answers, and that none does. */
export function rankCandidates(model: RankerModel, candidates: Candidate[]): { scores: number[]; probabilities: number[]; none: number } {
  const scores = candidates.map((c) => {
    let score = model.bias;
    for (let i = 0; i < model.weights.length; i++) score += model.weights[i] * c.features[i];
    return score;
  });
  // Softmax with "none" at score 0, shifted by the largest score so e^s never overflows.
  const top = Math.max(0, ...scores);
  const exps = scores.map((s) => Math.exp(s - top));
  const denominator = Math.exp(-top) + exps.reduce((sum, e) => sum + e, 0);
  return { scores, probabilities: exps.map((e) => e / denominator), none: Math.exp(-top) / denominator };
}

function checked(model: RankerModel): RankerModel {
  if (model.features.length !== FEATURES.length || model.features.some((name, i) => name !== FEATURES[i]) || model.weights.length !== FEATURES.length) {
    throw new Error('ranker-weights.json was fitted for other features than features.ts computes: rerun bench/fit-reader.ts');
  }
  return model;
}
