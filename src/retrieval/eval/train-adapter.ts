import type { Embedder } from '../../models/types.js';
import { trainAdapterMatrix, type AdapterTrainingOptions } from '../adapter-training.js';
import type { LanceVectorStore } from '../lance-store.js';
import { QueryAdapter } from '../query-adapter.js';
import type { BeirDataset } from './beir.js';

/** A namespace's chunk vectors as training candidates, with the rows of each document. */
export interface AdapterCorpus {
  vectors: Float32Array[];
  rowsOfDocument: Map<string, number[]>;
}

export async function loadAdapterCorpus(store: LanceVectorStore, namespace: string): Promise<AdapterCorpus> {
  const corpus: AdapterCorpus = { vectors: [], rowsOfDocument: new Map() };
  for await (const rows of store.scanVectors(namespace)) {
    for (const { chunk, vector } of rows) {
      const own = corpus.rowsOfDocument.get(chunk.docId) ?? [];
      own.push(corpus.vectors.length);
      corpus.rowsOfDocument.set(chunk.docId, own);
      corpus.vectors.push(vector);
    }
  }
  return corpus;
}

/** Query vectors of the data set's judged queries, by query id (embedded once, reused by every fold). */
export async function embedQueries(embedder: Embedder, queries: BeirDataset['queries']): Promise<Map<string, Float32Array>> {
  const signal = new AbortController().signal;
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < queries.length; i += 64) {
    const batch = queries.slice(i, i + 64);
    const embedded = await embedder.embed(
      batch.map((q) => q.text),
      { signal, input: 'query' },
    );
    batch.forEach((q, j) => vectors.set(q.id, embedded[j]));
  }
  return vectors;
}

/**
 * Trains a query adapter on judged queries: each query's relevant documents (every chunk of them)
 * against all other chunks of the corpus. Queries whose relevant documents are not indexed are
 * skipped.
 */
export function trainQueryAdapter(
  corpus: AdapterCorpus,
  dataset: Pick<BeirDataset, 'qrels'>,
  queries: BeirDataset['queries'],
  queryVectors: Map<string, Float32Array>,
  options: AdapterTrainingOptions & { embedder: string; source: string },
): QueryAdapter {
  const examples = queries.flatMap((query) => {
    const relevant = [...dataset.qrels.get(query.id)!]
      .filter(([, grade]) => grade > 0)
      .flatMap(([docId]) => corpus.rowsOfDocument.get(docId) ?? []);
    return relevant.length > 0 ? [{ query: queryVectors.get(query.id)!, relevant }] : [];
  });
  const matrix = trainAdapterMatrix(examples, corpus.vectors, options);
  const { embedder, source, onEpoch: _onEpoch, ...hyperparameters } = options;
  return new QueryAdapter(
    { embedder, dimensions: corpus.vectors[0].length, training: { source, queries: examples.length, ...hyperparameters } },
    matrix,
  );
}
