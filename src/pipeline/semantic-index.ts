import { LRUCache } from 'lru-cache';
import { dot, normalize } from '../core/vectors.js';

/** A question answered before: its (unit) vector, its text, and the key its answer is cached under. */
interface Asked {
  vector: Float32Array;
  question: string;
  key: string;
}

export interface SemanticMatch {
  question: string;
  key: string;
  similarity: number;
}

/** Scopes (tenant, namespace, index version, variant) kept per process; the least recently used go first. */
const MAX_SCOPES = 256;

/**
 * The semantic answer cache's index: per scope (tenant, namespace, index version and variant, in
 * one string), the questions answered lately, found by cosine. A linear scan: `max_questions`
 * vectors of a few hundred dimensions take well under a millisecond, and an ANN index would
 * cost more to keep than it saves at this size. Per process: the answers it points to are in the
 * results cache (Redis too), the vectors are not worth a round trip.
 */
export class SemanticIndex {
  private readonly scopes = new LRUCache<string, Asked[]>({ max: MAX_SCOPES });

  constructor(private readonly options: { minCosine: number; maxQuestions: number }) {}

  /** The closest earlier question within `min_cosine` of this vector, if any. */
  nearest(scope: string, vector: Float32Array): SemanticMatch | undefined {
    const unit = normalize(vector);
    let best: SemanticMatch | undefined;
    for (const asked of this.scopes.get(scope) ?? []) {
      const similarity = dot(unit, asked.vector);
      if (similarity >= this.options.minCosine && (!best || similarity > best.similarity)) best = { question: asked.question, key: asked.key, similarity };
    }
    return best;
  }

  add(scope: string, vector: Float32Array, question: string, key: string): void {
    const asked = this.scopes.get(scope) ?? [];
    if (asked.length === 0) this.scopes.set(scope, asked);
    asked.push({ vector: normalize(vector), question, key });
    if (asked.length > this.options.maxQuestions) asked.shift();
  }
}
