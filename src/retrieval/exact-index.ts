import type { CompiledFilter } from './filter.js';
import type { Chunk, Hit } from './types.js';

interface Entry {
  chunk: Chunk;
  vector: Float32Array;
}

/**
 * Exact dense search in memory, for namespaces below the ANN threshold. LanceDB's flat scan of
 * 5,000 512-d rows measured 40-70 ms p50 on the shared 2-core box (its thread pool fights the
 * other processes); a dot-product loop over the same rows takes about 4 ms. LanceDB stays the
 * store of record: this mirror is filled from it at start and updated on every write. Filters
 * run on every row before the top-k cut, with the same semantics as the store's SQL.
 */
export class ExactIndex {
  private readonly namespaces = new Map<string, Map<string, Entry>>();

  upsert(namespace: string, chunks: Chunk[], vectors: Float32Array[]): void {
    const rows = this.rows(namespace);
    for (const docId of new Set(chunks.map((c) => c.docId))) this.deleteFrom(rows, docId);
    chunks.forEach((chunk, i) => rows.set(chunk.id, { chunk, vector: vectors[i] }));
  }

  deleteDocument(namespace: string, docId: string): void {
    const rows = this.namespaces.get(namespace);
    if (rows) this.deleteFrom(rows, docId);
  }

  /** Drops a namespace's mirror (once its ANN index serves searches instead). */
  drop(namespace: string): void {
    this.namespaces.delete(namespace);
  }

  search(namespace: string, query: Float32Array, topK: number, filter?: CompiledFilter): Hit[] {
    const rows = this.namespaces.get(namespace);
    if (!rows) return [];
    const top = new TopK<Entry>(topK);
    for (const entry of rows.values()) {
      if (filter && !filter.matches(entry.chunk)) continue;
      top.offer(dot(entry.vector, query), entry);
    }
    return top.sorted().map(({ score, item }) => {
      const { index: _index, ...chunk } = item.chunk;
      return { ...chunk, score };
    });
  }

  clear(): void {
    this.namespaces.clear();
  }

  private rows(namespace: string): Map<string, Entry> {
    let rows = this.namespaces.get(namespace);
    if (!rows) {
      rows = new Map();
      this.namespaces.set(namespace, rows);
    }
    return rows;
  }

  private deleteFrom(rows: Map<string, Entry>, docId: string): void {
    // Chunk ids are `${docId}#${n}`: walk them until one is missing.
    for (let i = 0; rows.delete(`${docId}#${i}`); i++);
  }
}

/** Dot product unrolled by four: the hot loop of exact search. */
function dot(a: Float32Array, b: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length - (a.length % 4);
  for (let i = 0; i < n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (let i = n; i < a.length; i++) s0 += a[i] * b[i];
  return s0 + s1 + s2 + s3;
}

/** The k best items seen so far, in a binary min-heap on score. */
class TopK<T> {
  private readonly heap: Array<{ score: number; item: T }> = [];
  constructor(private readonly k: number) {}

  offer(score: number, item: T): void {
    const heap = this.heap;
    if (heap.length < this.k) {
      heap.push({ score, item });
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent].score <= heap[i].score) break;
        [heap[parent], heap[i]] = [heap[i], heap[parent]];
        i = parent;
      }
    } else if (this.k > 0 && score > heap[0].score) {
      heap[0] = { score, item };
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l].score < heap[m].score) m = l;
        if (r < heap.length && heap[r].score < heap[m].score) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    }
  }

  sorted(): Array<{ score: number; item: T }> {
    return [...this.heap].sort((a, b) => b.score - a.score);
  }
}
