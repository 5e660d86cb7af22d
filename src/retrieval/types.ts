import type { Pacer } from '../core/pace.js';

/**
 * Retrieval contracts: the documents clients ingest, the chunks we index, and the hits we return.
 * Every call is scoped to one namespace (the tenant boundary) and takes the request's signal.
 */

export type Metadata = Record<string, string | number | boolean | null | Array<string | number>>;

export interface DocumentInput {
  id: string;
  text: string;
  title?: string;
  metadata?: Metadata;
}

export interface Chunk {
  /** `${docId}#${index}` */
  id: string;
  docId: string;
  index: number;
  text: string;
  title?: string;
  metadata: Metadata;
}

export type SearchMode = 'dense' | 'sparse' | 'hybrid';
export type FusionMethod = 'rrf' | 'weighted';

/** Equality (`{field: value}`), membership (`{field: {in: [...]}}`) and ranges (`{field: {gte, lte, gt, lt}}`). */
export type FilterCondition =
  | string
  | number
  | boolean
  | { in: Array<string | number> }
  | { gt?: number; gte?: number; lt?: number; lte?: number };
export type Filter = Record<string, FilterCondition>;

export interface Hit {
  /** The chunk id. */
  id: string;
  docId: string;
  score: number;
  text: string;
  title?: string;
  metadata: Metadata;
}

export interface SearchOptions {
  namespace: string;
  topK: number;
  filter?: Filter;
  signal: AbortSignal;
}

export interface VectorStore {
  upsert(namespace: string, chunks: Chunk[], vectors: Float32Array[]): Promise<void>;
  deleteDocument(namespace: string, docId: string): Promise<number>;
  search(vector: Float32Array, options: SearchOptions): Promise<Hit[]>;
  /** One document's chunks in order (none when the namespace or the document does not exist). */
  getDocument(namespace: string, docId: string, signal: AbortSignal): Promise<Chunk[]>;
  /** Chunks of the namespace, or 0 when it does not exist. */
  count(namespace: string): Promise<number>;
  namespaces(): Promise<string[]>;
  close(): Promise<void>;
}

export interface SparseIndex {
  /** `pace` is awaited between chunks' analysis (a request's pacer: yields and honours its signal). */
  upsert(namespace: string, chunks: Chunk[], pace?: Pacer): Promise<void>;
  deleteDocument(namespace: string, docId: string): Promise<number>;
  search(query: string, options: SearchOptions): Promise<Hit[]>;
}

export interface IngestResult {
  accepted: Array<{ id: string; chunks: number }>;
  failed: Array<{ id: string; index: number; error: { code: string; message: string; field?: string } }>;
}
