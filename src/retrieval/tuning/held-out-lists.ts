import type { RetrievalConfig } from '../../config/retrieval.js';
import { createPacer } from '../../core/pace.js';
import type { Embedder } from '../../models/types.js';
import { embedQueries, type AdapterCorpus } from '../eval/train-adapter.js';
import { ExactIndex } from '../exact-index.js';
import { chunkVectors } from '../ingest.js';
import type { LanceVectorStore } from '../lance-store.js';
import { Bm25Index } from '../sparse.js';
import type { Chunk } from '../types.js';
import type { QueryLists } from './fusion-grid.js';
import { heldOutSentences, withoutSentence, type PseudoQuery } from './pseudo-queries.js';

/** Pseudo-queries with their lists, and what an adapter trains on: the copy's chunk vectors and the query vectors (by document id). */
export interface HeldOut {
  queries: PseudoQuery[];
  lists: QueryLists[];
  corpus: AdapterCorpus;
  queryVectors: Map<string, Float32Array>;
}

/** The in-memory copy's name (the indexes here hold nothing else). */
const COPY = 'held-out';

/**
 * Pseudo-queries of a namespace and each one's dense and BM25 candidate lists, as the search route
 * would fetch them (`retrieval.candidates` each), from a copy of the namespace in memory where each
 * query's sentence is taken out of its document: the changed chunks are embedded again exactly as
 * ingest embeds them, every other chunk keeps its stored vector. The namespace is only read.
 */
export async function heldOutLists(
  source: { store: LanceVectorStore; namespace: string; rc: RetrievalConfig; embedder: Embedder },
  count: number,
  signal: AbortSignal,
): Promise<HeldOut> {
  const { store, namespace, rc, embedder } = source;
  const rows: Array<{ chunk: Chunk; vector: Float32Array }> = [];
  for await (const batch of store.scanVectors(namespace)) rows.push(...batch);
  const queries = heldOutSentences(
    rows.map((r) => r.chunk),
    count,
  );
  const heldOut = new Map(queries.map((q) => [q.docId, q.text]));
  const changed: number[] = [];
  const chunks = rows.map(({ chunk }, i) => {
    const sentence = heldOut.get(chunk.docId);
    const without = sentence === undefined ? chunk : withoutSentence(chunk, sentence);
    if (without !== chunk) changed.push(i);
    return without;
  });
  const pace = createPacer(signal);
  const vectors = rows.map((r) => r.vector);
  const embedded = await chunkVectors(
    changed.map((i) => chunks[i]),
    { vector: { kind: rc.chunking.vector, sentenceMaxWords: rc.chunking.sentence_max_words }, embedBatchSize: rc.embed_batch_size },
    { embedder, signal, pace, onEmbedded: () => {} },
  );
  changed.forEach((row, j) => (vectors[row] = embedded[j]));
  const dense = new ExactIndex();
  dense.upsert(COPY, chunks, vectors);
  const sparse = new Bm25Index({ k1: rc.bm25.k1, b: rc.bm25.b, d: rc.bm25.d }, async () => new Map());
  await sparse.upsert(COPY, chunks, pace);
  const queryVectors = await embedQueries(
    embedder,
    queries.map((q) => ({ id: q.docId, text: q.text })),
  );
  const lists: QueryLists[] = [];
  for (const query of queries) {
    lists.push({
      dense: dense.search(COPY, queryVectors.get(query.docId)!, rc.candidates),
      sparse: await sparse.search(query.text, { namespace: COPY, topK: rc.candidates, signal }),
      judged: new Map([[query.docId, 1]]),
    });
  }
  const corpus: AdapterCorpus = { vectors, rowsOfDocument: new Map() };
  chunks.forEach((chunk, row) => corpus.rowsOfDocument.set(chunk.docId, [...(corpus.rowsOfDocument.get(chunk.docId) ?? []), row]));
  return { queries, lists, corpus, queryVectors };
}
