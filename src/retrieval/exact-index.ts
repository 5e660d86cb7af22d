import type { CompiledFilter } from './filter.js';
import type { Chunk, Hit } from './types.js';

/** One namespace's rows: vectors packed in one matrix (row = slot), chunks in the same slots. */
interface Rows {
  dimensions: number;
  matrix: Float32Array;
  chunks: Chunk[];
  slotOf: Map<string, number>;
}

/**
 * Exact dense search in memory, for namespaces below the ANN threshold. LanceDB's flat scan of
 * 5,000 512-d rows measured 40-70 ms p50 on the shared 2-core box (its thread pool fights the
 * other processes); a dot-product loop over the same rows takes a few ms. LanceDB stays the
 * store of record: this mirror is filled from it at start and updated on every write. Filters
 * run on every row before the top-k cut, with the same semantics as the store's SQL.
 *
 * Vectors sit in one contiguous matrix rather than one array each: scanning SciFact's 6,258
 * vectors took 5.5 ms p50 when each had its own allocation, scattered through the heap, and
 * about half that packed (the scan is memory-bound).
 */
export class ExactIndex {
  private readonly namespaces = new Map<string, Rows>();

  upsert(namespace: string, chunks: Chunk[], vectors: Float32Array[]): void {
    if (chunks.length === 0) return;
    const rows = this.rows(namespace, vectors[0].length);
    for (const docId of new Set(chunks.map((c) => c.docId))) this.deleteFrom(rows, docId);
    const needed = (rows.chunks.length + chunks.length) * rows.dimensions;
    if (needed > rows.matrix.length) {
      const grown = new Float32Array(Math.max(needed, rows.matrix.length * 2));
      grown.set(rows.matrix.subarray(0, rows.chunks.length * rows.dimensions));
      rows.matrix = grown;
    }
    chunks.forEach((chunk, i) => {
      const slot = rows.chunks.length;
      rows.matrix.set(vectors[i], slot * rows.dimensions);
      rows.chunks.push(chunk);
      rows.slotOf.set(chunk.id, slot);
    });
  }

  deleteDocument(namespace: string, docId: string): void {
    const rows = this.namespaces.get(namespace);
    if (rows) this.deleteFrom(rows, docId);
  }

  /** A copy of every chunk the namespace's mirror holds (none when it has no mirror). */
  chunks(namespace: string): Chunk[] {
    return [...(this.namespaces.get(namespace)?.chunks ?? [])];
  }

  /** Drops a namespace's mirror (once its ANN index serves searches instead). */
  drop(namespace: string): void {
    this.namespaces.delete(namespace);
  }

  search(namespace: string, query: Float32Array, topK: number, filter?: CompiledFilter): Hit[] {
    const rows = this.namespaces.get(namespace);
    if (!rows) return [];
    const top = new TopK<Chunk>(topK);
    const { matrix, chunks, dimensions } = rows;
    for (let slot = 0; slot < chunks.length; slot++) {
      if (filter && !filter.matches(chunks[slot])) continue;
      top.offer(dotAt(matrix, slot * dimensions, query), chunks[slot]);
    }
    return top.sorted().map(({ score, item }) => {
      const { index: _index, ...chunk } = item;
      return { ...chunk, score };
    });
  }

  clear(): void {
    this.namespaces.clear();
  }

  private rows(namespace: string, dimensions: number): Rows {
    let rows = this.namespaces.get(namespace);
    if (!rows) {
      rows = { dimensions, matrix: new Float32Array(0), chunks: [], slotOf: new Map() };
      this.namespaces.set(namespace, rows);
    }
    return rows;
  }

  /** Removes a document's chunks, moving the last row into each freed slot. */
  private deleteFrom(rows: Rows, docId: string): void {
    // Chunk ids are `${docId}#${n}`: walk them until one is missing.
    for (let i = 0; ; i++) {
      const id = `${docId}#${i}`;
      const slot = rows.slotOf.get(id);
      if (slot === undefined) return;
      const last = rows.chunks.length - 1;
      if (slot !== last) {
        const d = rows.dimensions;
        rows.matrix.copyWithin(slot * d, last * d, (last + 1) * d);
        rows.chunks[slot] = rows.chunks[last];
        rows.slotOf.set(rows.chunks[slot].id, slot);
      }
      rows.chunks.pop();
      rows.slotOf.delete(id);
    }
  }
}

/** Dot product of a matrix row and a vector, unrolled by four: the hot loop of exact search. */
function dotAt(matrix: Float32Array, offset: number, b: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = b.length - (b.length % 4);
  for (let i = 0; i < n; i += 4) {
    s0 += matrix[offset + i] * b[i];
    s1 += matrix[offset + i + 1] * b[i + 1];
    s2 += matrix[offset + i + 2] * b[i + 2];
    s3 += matrix[offset + i + 3] * b[i + 3];
  }
  for (let i = n; i < b.length; i++) s0 += matrix[offset + i] * b[i];
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
