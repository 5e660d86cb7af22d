import MiniSearch from 'minisearch';
import { throwIfAborted } from '../core/deadline.js';
import { analyzeTerm, words } from './analyzer.js';
import { titledText } from './chunking.js';
import { compileFilter, type FieldType } from './filter.js';
import type { Chunk, Hit, SearchOptions, SparseIndex } from './types.js';

export interface Bm25Options {
  /** Term-frequency saturation. */
  k1: number;
  /** Length normalisation (0 = none, 1 = full). */
  b: number;
  /** BM25+ lower bound on a matching term's contribution (0 = plain BM25). */
  d: number;
}

interface NamespaceIndex {
  search: MiniSearch<Chunk>;
  chunks: Map<string, Chunk>;
  byDoc: Map<string, string[]>;
}

/**
 * BM25 over chunk titles and texts, in memory, one MiniSearch index per namespace (rebuilt from the
 * vector store at start, so the two always hold the same chunks). Filters are applied to every
 * match before ranking, with the same semantics as the store's SQL.
 */
export class Bm25Index implements SparseIndex {
  private readonly namespaces = new Map<string, NamespaceIndex>();

  constructor(
    private readonly bm25: Bm25Options,
    /** The metadata field types of a namespace, so filters are checked exactly as the store does. */
    private readonly fieldTypes: (namespace: string) => Promise<ReadonlyMap<string, FieldType>>,
  ) {}

  async upsert(namespace: string, chunks: Chunk[]): Promise<void> {
    const index = this.namespace(namespace);
    for (const docId of new Set(chunks.map((c) => c.docId))) this.remove(index, docId);
    for (const chunk of chunks) {
      index.chunks.set(chunk.id, chunk);
      const ids = index.byDoc.get(chunk.docId) ?? [];
      ids.push(chunk.id);
      index.byDoc.set(chunk.docId, ids);
    }
    index.search.addAll(chunks);
  }

  async deleteDocument(namespace: string, docId: string): Promise<number> {
    const index = this.namespaces.get(namespace);
    return index ? this.remove(index, docId) : 0;
  }

  async search(query: string, options: SearchOptions): Promise<Hit[]> {
    throwIfAborted(options.signal);
    const index = this.namespaces.get(options.namespace);
    const filter = compileFilter(options.filter, await this.fieldTypes(options.namespace));
    if (!index) return [];
    const results = index.search
      .search(query, {
        filter: filter ? (result) => filter.matches(index.chunks.get(result.id as string)!) : undefined,
      })
      // MiniSearch multiplies a result's BM25 sum by the number of query terms it matched (a
      // coordination factor). Plain BM25 already rewards matching more terms; on SciFact train the
      // extra factor costs 0.02 nDCG@10 (docs/BENCHMARKS.md), so it is divided back out.
      .map((result) => ({ id: result.id as string, score: result.score / Math.max(1, result.queryTerms.length) }))
      .sort((a, b) => b.score - a.score);
    return results.slice(0, options.topK).map((result) => {
      const { index: _index, ...chunk } = index.chunks.get(result.id)!;
      return { ...chunk, score: result.score };
    });
  }

  /** Drops a namespace's in-memory index (tests and shutdown). */
  clear(): void {
    this.namespaces.clear();
  }

  private namespace(namespace: string): NamespaceIndex {
    let index = this.namespaces.get(namespace);
    if (!index) {
      index = { search: this.createIndex(), chunks: new Map(), byDoc: new Map() };
      this.namespaces.set(namespace, index);
    }
    return index;
  }

  private createIndex(): MiniSearch<Chunk> {
    const { k1, b, d } = this.bm25;
    // Title and text form one field: with two, MiniSearch computes IDF and length normalisation
    // per field, which scored 0.007 nDCG@10 lower on SciFact train than one field (with the
    // title weighted 0.5, the best split-field setting; docs/BENCHMARKS.md).
    return new MiniSearch<Chunk>({
      fields: ['content'],
      extractField: (chunk, field) => (field === 'content' ? titledText(chunk) : chunk[field as keyof Chunk]) as string,
      storeFields: [],
      tokenize: words,
      processTerm: (term) => analyzeTerm(term) ?? null,
      searchOptions: { bm25: { k: k1, b, d } },
    });
  }

  private remove(index: NamespaceIndex, docId: string): number {
    const ids = index.byDoc.get(docId) ?? [];
    for (const id of ids) {
      // discard() drops the document at once from results and cleans its postings up lazily.
      index.search.discard(id);
      index.chunks.delete(id);
    }
    index.byDoc.delete(docId);
    return ids.length;
  }
}
