import type { Embedder } from '../models/types.js';
import type { DocumentInput, FusionMethod, Hit, IngestResult, SparseIndex, VectorStore } from './types.js';

/**
 * The retrieval facade the pipeline uses. Namespaces are opaque strings already scoped to the
 * tenant by the caller (e.g. `public/default`); the store maps them to safe table names.
 */
export interface Retrieval {
  readonly store: VectorStore;
  readonly sparse: SparseIndex;
  /** Fuses ranked lists into one, best first, `topK` long. */
  fuse(dense: Hit[], sparse: Hit[], options: { method: FusionMethod; topK: number }): Hit[];
  /** Parse-free ingest of documents: chunk, embed in batches, upsert by id. One bad document does not fail the rest. */
  ingest(
    namespace: string,
    documents: DocumentInput[],
    options: { embedder: Embedder; signal: AbortSignal },
  ): Promise<IngestResult>;
  deleteDocument(namespace: string, docId: string): Promise<number>;
  namespaceExists(namespace: string): Promise<boolean>;
  /** Opens the store and rebuilds in-memory indexes from it. */
  start(): Promise<void>;
  close(): Promise<void>;
}
