import { multiply } from '../core/vectors.js';

/** One training query: its vector and the rows of the candidate matrix that answer it. */
export interface AdapterExample {
  query: Float32Array;
  relevant: number[];
}

export interface AdapterTrainingOptions {
  /** Softmax temperature over cosine similarities: lower sharpens the contrast with negatives. */
  temperature: number;
  /** Pull towards the identity map (0 = none): keeps the adapter close to the embedder it adapts. */
  l2: number;
  learningRate: number;
  epochs: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

/** The settings measured best on SciFact train by 5-fold cross-validation (docs/BENCHMARKS.md). */
export const DEFAULT_ADAPTER_TRAINING: Omit<AdapterTrainingOptions, 'onEpoch'> = {
  temperature: 0.05,
  l2: 0.001,
  learningRate: 0.5,
  epochs: 10,
};

/**
 * Trains a query adapter W (row-major n × n, starting at the identity) so that, for each example,
 * softmax(candidates · W·query / temperature) puts its mass on the relevant rows: full-batch
 * gradient descent on that cross-entropy, every other row a negative, plus `l2`·‖W − I‖².
 *
 * Written by hand: the tfjs build bundled with use-lite ships no gradients, and a full training
 * framework for one linear map and one loss would be most of the install for ~40 lines of math.
 */
export function trainAdapterMatrix(examples: AdapterExample[], candidates: Float32Array[], options: AdapterTrainingOptions): Float32Array {
  const n = candidates[0]?.length ?? 0;
  if (n === 0 || examples.length === 0) throw new Error('adapter training needs candidates and examples');
  const rows = new Float32Array(candidates.length * n);
  candidates.forEach((v, r) => rows.set(v, r * n));
  const weights = new Float64Array(n * n);
  for (let i = 0; i < n; i++) weights[i * n + i] = 1;
  const logits = new Float64Array(candidates.length);
  const adapted = new Float64Array(n);
  const direction = new Float64Array(n);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const gradient = new Float64Array(n * n);
    let loss = 0;
    for (const { query, relevant } of examples) {
      multiply(weights, query, adapted);
      // logits = candidates · adapted / temperature, softmax-normalised in place.
      multiply(rows, adapted, logits);
      let max = -Infinity;
      for (let r = 0; r < logits.length; r++) {
        logits[r] /= options.temperature;
        if (logits[r] > max) max = logits[r];
      }
      let total = 0;
      for (let r = 0; r < logits.length; r++) total += logits[r] = Math.exp(logits[r] - max);
      // d loss / d adapted = (expected candidate under the softmax - mean relevant candidate) / temperature
      direction.fill(0);
      for (let r = 0; r < logits.length; r++) {
        const p = logits[r] / total;
        if (p < 1e-7) continue; // negligible mass: skipping it keeps an epoch to seconds
        for (let j = 0, o = r * n; j < n; j++) direction[j] += p * rows[o + j];
      }
      for (const r of relevant) {
        loss -= Math.log(Math.max(logits[r] / total, 1e-12)) / relevant.length;
        for (let j = 0, o = r * n; j < n; j++) direction[j] -= rows[o + j] / relevant.length;
      }
      for (let i = 0; i < n; i++) {
        const g = direction[i] / options.temperature;
        if (g !== 0) for (let j = 0, o = i * n; j < n; j++) gradient[o + j] += g * query[j];
      }
    }
    const scale = options.learningRate / examples.length;
    for (let i = 0; i < n; i++) {
      for (let j = 0, o = i * n; j < n; j++) {
        weights[o + j] -= scale * gradient[o + j] + options.learningRate * options.l2 * (weights[o + j] - (i === j ? 1 : 0));
      }
    }
    options.onEpoch?.(epoch + 1, loss / examples.length);
  }
  return Float32Array.from(weights);
}
