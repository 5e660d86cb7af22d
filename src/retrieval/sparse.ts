import { throwIfAborted } from '../core/deadline.js';
import { createPacer, type Pacer } from '../core/pace.js';
import { analyze } from '../core/text/analyzer.js';
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

/** A term's postings: parallel arrays of chunk slots and term frequencies, in insertion order. */
interface Postings {
  slots: number[];
  tfs: number[];
  /** Live chunks containing the term (postings of removed chunks stay until compaction). */
  df: number;
}

/** One namespace's index. Chunks live in slots; a removed chunk's slot is emptied, not reused. */
interface NamespaceIndex {
  postings: Map<string, Postings>;
  chunks: Array<Chunk | undefined>;
  /** Analysed length of each slot's chunk, and its distinct terms (to update df on removal). */
  lengths: number[];
  terms: Array<string[] | undefined>;
  slotsOfDoc: Map<string, number[]>;
  live: number;
  totalLength: number;
}

/**
 * BM25 over chunk title + text as one field, in memory, one index per namespace (rebuilt from the
 * vector store at start, so the two always hold the same chunks). Filters are applied to every
 * match before ranking, with the same semantics as the store's SQL.
 *
 * Written by hand rather than on a search library: MiniSearch (used before) scales each result by
 * the number of query terms it matched and scores fields with separate IDFs, which cost 0.02
 * nDCG@10 on SciFact train, and its per-result objects made a query cost 5.2 ms p50 / 14.4 ms p95
 * over SciFact's 6,258 chunks, most of the hybrid latency budget. Scoring flat postings into one
 * typed accumulator is plain BM25 at a fraction of that (docs/BENCHMARKS.md).
 */
export class Bm25Index implements SparseIndex {
  private readonly namespaces = new Map<string, NamespaceIndex>();
  /**
   * Namespaces being rebuilt from the store: the index taking shape, and the documents written or
   * deleted here meanwhile. Those writes go to both indexes and the scan skips those documents (the
   * write is as new as the store's copy or newer), so a rebuild that ends mid-ingest loses nothing.
   */
  private readonly rebuilding = new Map<string, { index: NamespaceIndex; written: Set<string> }>();

  constructor(
    private readonly bm25: Bm25Options,
    /** The metadata field types of a namespace, so filters are checked exactly as the store does. */
    private readonly fieldTypes: (namespace: string) => Promise<ReadonlyMap<string, FieldType>>,
  ) {}

  /**
   * Analysis (the costly part) runs first, paced between chunks; the index then changes in one
   * synchronous step, so a search never sees a document half replaced and two upserts never interleave.
   */
  async upsert(namespace: string, chunks: Chunk[], pace: Pacer = createPacer()): Promise<void> {
    const analyzed: string[][] = [];
    for (const chunk of chunks) {
      analyzed.push(analyze(titledText(chunk)));
      await pace();
    }
    const rebuild = this.rebuilding.get(namespace);
    for (const index of rebuild ? [this.namespace(namespace), rebuild.index] : [this.namespace(namespace)]) {
      for (const docId of new Set(chunks.map((c) => c.docId))) this.remove(index, docId);
      chunks.forEach((chunk, i) => this.add(index, chunk, analyzed[i]));
    }
    for (const chunk of chunks) rebuild?.written.add(chunk.docId);
  }

  /**
   * Builds a namespace's index afresh from every chunk it holds (a replica catching up with writes
   * it did not hear of) and swaps it in at once: searches use the old index until then. Writes made
   * here during the rebuild are kept (see `rebuilding`). One rebuild of a namespace at a time.
   */
  async replaceNamespace(namespace: string, batches: AsyncIterable<Chunk[]>, pace: Pacer = createPacer()): Promise<void> {
    const rebuild = { index: emptyIndex(), written: new Set<string>() };
    this.rebuilding.set(namespace, rebuild);
    try {
      for await (const chunks of batches) {
        for (const chunk of chunks) {
          const analyzed = analyze(titledText(chunk));
          if (!rebuild.written.has(chunk.docId)) this.add(rebuild.index, chunk, analyzed);
          await pace();
        }
      }
      this.namespaces.set(namespace, rebuild.index);
    } finally {
      this.rebuilding.delete(namespace);
    }
  }

  async deleteDocument(namespace: string, docId: string): Promise<number> {
    const rebuild = this.rebuilding.get(namespace);
    if (rebuild) {
      this.remove(rebuild.index, docId);
      rebuild.written.add(docId);
    }
    const index = this.namespaces.get(namespace);
    return index ? this.remove(index, docId) : 0;
  }

  async search(query: string, options: SearchOptions): Promise<Hit[]> {
    throwIfAborted(options.signal);
    const index = this.namespaces.get(options.namespace);
    const filter = compileFilter(options.filter, await this.fieldTypes(options.namespace));
    if (!index || index.live === 0) return [];
    const { k1, b, d } = this.bm25;
    const averageLength = index.totalLength / index.live || 1;
    const scores = new Float64Array(index.chunks.length);
    const touched: number[] = [];
    for (const [term, queryTf] of termCounts(analyze(query))) {
      const postings = index.postings.get(term);
      if (!postings || postings.df === 0) continue;
      const idf = Math.log(1 + (index.live - postings.df + 0.5) / (postings.df + 0.5));
      const { slots, tfs } = postings;
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i];
        const length = index.lengths[slot];
        if (length < 0) continue; // removed
        const tf = tfs[i];
        if (scores[slot] === 0) touched.push(slot);
        scores[slot] += queryTf * idf * (d + (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / averageLength)));
      }
    }
    const matches = filter ? touched.filter((slot) => filter.matches(index.chunks[slot]!)) : touched;
    matches.sort((x, y) => scores[y] - scores[x]);
    return matches.slice(0, options.topK).map((slot) => {
      const { index: _index, ...chunk } = index.chunks[slot]!;
      return { ...chunk, score: scores[slot] };
    });
  }

  /** Documents the namespace holds (0 when unknown here). */
  documentCount(namespace: string): number {
    return this.namespaces.get(namespace)?.slotsOfDoc.size ?? 0;
  }

  /** Drops every namespace's in-memory index (tests and shutdown). */
  clear(): void {
    this.namespaces.clear();
    this.rebuilding.clear();
  }

  private namespace(namespace: string): NamespaceIndex {
    let index = this.namespaces.get(namespace);
    if (!index) {
      index = emptyIndex();
      this.namespaces.set(namespace, index);
    }
    return index;
  }

  private add(index: NamespaceIndex, chunk: Chunk, analyzed: string[]): void {
    const counts = termCounts(analyzed);
    const slot = index.chunks.length;
    index.chunks.push(chunk);
    index.lengths.push(analyzed.length);
    index.terms.push([...counts.keys()]);
    for (const [term, tf] of counts) {
      let postings = index.postings.get(term);
      if (!postings) {
        postings = { slots: [], tfs: [], df: 0 };
        index.postings.set(term, postings);
      }
      postings.slots.push(slot);
      postings.tfs.push(tf);
      postings.df++;
    }
    const slots = index.slotsOfDoc.get(chunk.docId) ?? [];
    slots.push(slot);
    index.slotsOfDoc.set(chunk.docId, slots);
    index.live++;
    index.totalLength += analyzed.length;
  }

  private remove(index: NamespaceIndex, docId: string): number {
    const slots = index.slotsOfDoc.get(docId) ?? [];
    for (const slot of slots) {
      for (const term of index.terms[slot]!) index.postings.get(term)!.df--;
      index.totalLength -= index.lengths[slot];
      index.lengths[slot] = -1;
      index.chunks[slot] = undefined;
      index.terms[slot] = undefined;
      index.live--;
    }
    index.slotsOfDoc.delete(docId);
    if (slots.length > 0 && index.chunks.length > 1024 && index.live < index.chunks.length / 2) this.compact(index);
    return slots.length;
  }

  /**
   * Renumbers a namespace whose slots are mostly empty, so postings of removed chunks stop costing.
   * Remaps the postings it has (no chunk is analysed again): linear in the postings.
   */
  private compact(index: NamespaceIndex): void {
    const slotAfter = new Int32Array(index.chunks.length).fill(-1);
    let live = 0;
    index.chunks.forEach((chunk, slot) => {
      if (chunk) slotAfter[slot] = live++;
    });
    for (const [term, postings] of index.postings) {
      const slots: number[] = [];
      const tfs: number[] = [];
      postings.slots.forEach((slot, i) => {
        if (slotAfter[slot] < 0) return;
        slots.push(slotAfter[slot]);
        tfs.push(postings.tfs[i]);
      });
      if (slots.length === 0) index.postings.delete(term);
      else Object.assign(postings, { slots, tfs });
    }
    const kept = (_: unknown, slot: number) => slotAfter[slot] >= 0;
    index.chunks = index.chunks.filter(kept);
    index.lengths = index.lengths.filter(kept);
    index.terms = index.terms.filter(kept);
    for (const [docId, slots] of index.slotsOfDoc) index.slotsOfDoc.set(docId, slots.map((slot) => slotAfter[slot]));
  }
}

function emptyIndex(): NamespaceIndex {
  return { postings: new Map(), chunks: [], lengths: [], terms: [], slotsOfDoc: new Map(), live: 0, totalLength: 0 };
}

function termCounts(terms: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}
