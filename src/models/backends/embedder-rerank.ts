import { LRUCache } from 'lru-cache';
import { throwIfAborted } from '../../core/deadline.js';
import type { CallOptions, Embedder, Reranker } from '../types.js';
import { dot } from '../vectors.js';
import { splitSentences } from '../../retrieval/sentences.js';

export interface EmbedderRerankOptions {
  /** Weight of the best-matching sentence's similarity. */
  sentenceWeight: number;
  /** Weight of the whole passage's similarity. */
  passageWeight: number;
  /**
   * Weight of the first-stage rank (documents arrive in fused order): 1 / (rankK + rank). Keeps
   * what BM25 and the dense index agreed on when sentence similarity is unsure.
   */
  rankWeight: number;
  rankK: number;
  /** Sentence vectors kept between calls: the same candidates come back across queries. */
  cacheSize: number;
}

export const DEFAULT_EMBEDDER_RERANK: EmbedderRerankOptions = {
  sentenceWeight: 1,
  passageWeight: 0,
  rankWeight: 0,
  rankK: 10,
  cacheSize: 50_000,
};

/**
 * The embedded default reranker: re-scores candidates with the embedder at sentence level. A
 * passage's score mixes its best sentence's cosine similarity to the query (a relevant abstract
 * often answers in one sentence, which a whole-passage vector dilutes), the whole passage's, and
 * its first-stage rank. Needs no extra model: it runs on the configured embedder.
 */
export class EmbedderReranker implements Reranker {
  readonly role = 'reranker' as const;
  readonly backend = 'embedder-rerank';
  private readonly cache: LRUCache<string, Float32Array>;

  constructor(
    readonly name: string,
    private readonly embedder: Embedder,
    private readonly options: EmbedderRerankOptions = DEFAULT_EMBEDDER_RERANK,
  ) {
    this.cache = new LRUCache({ max: options.cacheSize });
  }

  async rerank(query: string, documents: string[], options: CallOptions): Promise<number[]> {
    throwIfAborted(options.signal);
    if (documents.length === 0) return [];
    const units = documents.map((doc) => ({ passage: doc, sentences: splitSentences(doc) }));
    const vectors = await this.embedAll(
      [query, ...units.flatMap((u) => (this.options.passageWeight > 0 ? [u.passage, ...u.sentences] : u.sentences))],
      options,
    );
    const q = vectors.get(query)!;
    const { sentenceWeight, passageWeight, rankWeight, rankK } = this.options;
    return units.map((unit, rank) => {
      const best = Math.max(...unit.sentences.map((s) => dot(q, vectors.get(s)!)));
      const passage = passageWeight > 0 ? dot(q, vectors.get(unit.passage)!) : 0;
      return sentenceWeight * best + passageWeight * passage + rankWeight / (rankK + rank + 1);
    });
  }

  /** Embeds the texts not cached yet, in one call (the model runtime batches it). */
  private async embedAll(texts: string[], options: CallOptions): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    const missing: string[] = [];
    for (const text of new Set(texts)) {
      const cached = this.cache.get(text);
      if (cached) out.set(text, cached);
      else missing.push(text);
    }
    if (missing.length > 0) {
      const vectors = await this.embedder.embed(missing, options);
      missing.forEach((text, i) => {
        this.cache.set(text, vectors[i]);
        out.set(text, vectors[i]);
      });
    }
    return out;
  }
}
