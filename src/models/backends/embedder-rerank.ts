import { LRUCache } from 'lru-cache';
import { throwIfAborted } from '../../core/deadline.js';
import { analyze } from '../../core/text/analyzer.js';
import { splitSentences } from '../../core/text/sentences.js';
import type { CallOptions, Embedder, InputKind, Reranker } from '../types.js';
import { dot } from '../../core/vectors.js';

export interface EmbedderRerankOptions {
  /**
   * Sentences embedded per document: the title and those sharing the most query terms. use-lite
   * costs ~10-25 ms per sentence on a busy 2-core box, so embedding every sentence of 30
   * abstracts (~300) would blow any rerank budget; the lexical pick keeps it to a few per document.
   */
  sentencesPerDocument: number;
  /** Weight of the best selected sentence's cosine similarity to the query. */
  sentenceWeight: number;
  /** Weight of the whole passage's similarity (0 skips embedding passages: long texts are slow). */
  passageWeight: number;
  /**
   * Weight of the first-stage rank (documents arrive in fused order): rankWeight / (rankK + rank).
   * Keeps what BM25 and the dense index agreed on when sentence similarity is unsure.
   */
  rankWeight: number;
  rankK: number;
  /** Sentence vectors kept between calls: the same candidates come back across queries. */
  cacheSize: number;
}

export const DEFAULT_EMBEDDER_RERANK: EmbedderRerankOptions = {
  sentencesPerDocument: 2,
  sentenceWeight: 1,
  passageWeight: 0,
  rankWeight: 1,
  rankK: 5,
  cacheSize: 50_000,
};

/**
 * The embedded default reranker: re-scores candidates with the embedder at sentence level. A
 * document's score is its best sentence's similarity to the query (a relevant abstract often
 * answers in one sentence, which a whole-passage vector dilutes) plus a prior from its fused rank.
 * Needs no extra model: it runs on the configured embedder.
 */
export class EmbedderReranker implements Reranker {
  readonly role = 'reranker' as const;
  readonly backend = 'embedder-rerank';
  private readonly cache: LRUCache<string, Float32Array>;
  private readonly options: EmbedderRerankOptions;

  constructor(
    readonly name: string,
    private readonly embedder: Embedder,
    options: Partial<EmbedderRerankOptions> = {},
  ) {
    this.options = { ...DEFAULT_EMBEDDER_RERANK, ...options };
    this.cache = new LRUCache({ max: this.options.cacheSize });
  }

  async rerank(query: string, documents: string[], options: CallOptions): Promise<number[]> {
    throwIfAborted(options.signal);
    if (documents.length === 0) return [];
    const queryTerms = new Set(analyze(query));
    const selected = documents.map((doc) => this.select(doc, queryTerms));
    const { sentenceWeight, passageWeight, rankWeight, rankK } = this.options;
    const passages = passageWeight > 0 ? documents : [];
    // The query and the sentences go as their kinds (a model with prompts embeds each with its own),
    // in two calls at once: the model runtime batches them together.
    const [queryVectors, vectors] = await Promise.all([
      this.embedAll([query], 'query', options),
      this.embedAll([...selected.flat(), ...passages], 'passage', options),
    ]);
    const q = queryVectors.get(query)!;
    return selected.map((sentences, rank) => {
      const best = Math.max(...sentences.map((s) => dot(q, vectors.get(s)!)));
      const passage = passageWeight > 0 ? passageWeight * dot(q, vectors.get(documents[rank])!) : 0;
      return sentenceWeight * best + passage + rankWeight / (rankK + rank + 1);
    });
  }

  /** The first line (the title, as the rerank stage sends it) and the sentences with the most query terms. */
  private select(doc: string, queryTerms: Set<string>): string[] {
    const [first, ...rest] = splitSentences(doc);
    const overlap = (s: string) => analyze(s).filter((t) => queryTerms.has(t)).length;
    const ranked = rest
      .map((s) => ({ s, n: overlap(s) }))
      .sort((a, b) => b.n - a.n)
      .slice(0, Math.max(0, this.options.sentencesPerDocument - 1))
      .map((x) => x.s);
    return [first, ...ranked];
  }

  /**
   * Embeds the texts of one kind not cached yet, in one call (the model runtime batches it). The
   * cache keys by kind too: the same text as a query and as a passage are two vectors.
   */
  private async embedAll(texts: string[], input: InputKind, options: CallOptions): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    const missing: string[] = [];
    for (const text of new Set(texts)) {
      const cached = this.cache.get(`${input}:${text}`);
      if (cached) out.set(text, cached);
      else missing.push(text);
    }
    if (missing.length > 0) {
      const vectors = await this.embedder.embed(missing, { ...options, input });
      missing.forEach((text, i) => {
        this.cache.set(`${input}:${text}`, vectors[i]);
        out.set(text, vectors[i]);
      });
    }
    return out;
  }
}
