import type { Embedder } from '../models/types.js';
import type { ChangeListener } from './index-follower.js';
import type { IngestOptions } from './ingest.js';
import type { QueryAdapter } from './query-adapter.js';
import type { FitOptions, TuningFit, TuningStore } from './tuning/tuning-store.js';
import type { Chunk, DocumentInput, Filter, FusionMethod, Hit, IngestResult, SearchMode, SearchOptions, SparseIndex, VectorStore } from './types.js';

/** One search as the pipeline and `pronto eval` run it (rerank is a separate stage). */
export interface SearchRequest {
  query: string;
  namespace: string;
  topK: number;
  mode: SearchMode;
  filter?: Filter;
  signal: AbortSignal;
  /** Embeds the query for dense and hybrid modes. */
  embedder: Embedder;
  /** A query vector computed already (skips the embedder). */
  vector?: Float32Array;
  /** Defaults to `retrieval.fusion` from config. */
  fusion?: FusionMethod;
}

/**
 * The retrieval facade the pipeline uses. Namespaces are opaque strings already scoped to the
 * tenant by the caller (e.g. `public/default`); the store maps them to safe table names.
 */
export interface Retrieval {
  readonly store: VectorStore;
  readonly sparse: SparseIndex;
  /** The adapter `retrieval.query_adapter` names, once `start()` has loaded it (a namespace's own tuning may name another). */
  readonly queryAdapter: QueryAdapter | undefined;
  /** Each namespace's fitted fusion (and adapter), stored in the index (tuning/tuning-store.ts). */
  readonly tuning: TuningStore;
  /** Fits a namespace's fusion from its own held-out sentences (`pronto tune`): ready for `tuning.save`. */
  fitTuning(namespace: string, options: FitOptions): Promise<TuningFit>;
  /**
   * Fuses ranked lists into one, best first, `topK` long, with the namespace's stored tuning
   * (else `retrieval.weights` / `retrieval.agreement`).
   */
  fuse(dense: Hit[], sparse: Hit[], options: { method: FusionMethod; topK: number; namespace: string }): Promise<Hit[]>;
  /** Dense search of `options.namespace` with the query vector mapped by its adapter (the namespace's, else `retrieval.query_adapter`). */
  searchDense(vector: Float32Array, options: SearchOptions): Promise<Hit[]>;
  /** Parse-free ingest of documents: chunk, embed in batches, upsert by id. One bad document does not fail the rest. */
  ingest(
    namespace: string,
    documents: DocumentInput[],
    options: IngestOptions,
  ): Promise<IngestResult>;
  /**
   * Dense, sparse or hybrid search, filters applied inside each index, `topK` hits best first.
   * Throws invalid_input for `top_k` above `retrieval.max_top_k` or a bad filter (`filter.<field>`).
   */
  search(request: SearchRequest): Promise<Hit[]>;
  deleteDocument(namespace: string, docId: string): Promise<number>;
  /** One document's chunks in order, from the namespace (already scoped to the tenant) only. */
  getDocument(namespace: string, docId: string, signal: AbortSignal): Promise<Chunk[]>;
  /**
   * The namespace's version: bumped after every committed write by any replica (shared through
   * Redis when configured), so an answer computed at one version is stale at a later one.
   * `undefined` while the shared version cannot be read (Redis down).
   */
  indexVersion(namespace: string): Promise<number | undefined>;
  /**
   * The newest version this replica's indexes are known to hold (0: unknown). Below
   * `indexVersion`, this replica has yet to take in another's write: what it computes now is of
   * older documents than the version says.
   */
  heldVersion(namespace: string): number;
  /**
   * The Redis key the namespace's version is kept under (on the process's Redis), so a reader can
   * read it in the same command as a value that depends on it; `undefined` without Redis.
   */
  versionKey(namespace: string): string | undefined;
  /** Called once this replica's indexes hold a change (its own write or another replica's); returns the unsubscribe. */
  onChange(listener: ChangeListener): () => void;
  namespaceExists(namespace: string): Promise<boolean>;
  /** Opens the store and rebuilds in-memory indexes from it. */
  start(): Promise<void>;
  close(): Promise<void>;
}
