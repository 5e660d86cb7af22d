import { join } from 'node:path';
import type { DeploymentRedis } from '../core/deployment-redis.js';
import type { Logger } from 'pino';
import type { RetrievalConfig } from '../config/retrieval.js';
import { invalidInput } from '../core/errors.js';
import type { Metrics } from '../observability/metrics.js';
import { LocalChangeFeed, RedisChangeFeed, type ChangeFeed } from './change-feed.js';
import { fuse } from './fusion.js';
import { IndexFollower } from './index-follower.js';
import { RedisWriteLease } from './writer-lease.js';
import { ingestDocuments, type IngestDeps } from './ingest.js';
import { LanceVectorStore } from './lance-store.js';
import { QueryAdapter } from './query-adapter.js';
import type { Retrieval, SearchRequest } from './retrieval.js';
import { Bm25Index } from './sparse.js';
import { FitAtIngest, fitNamespace, type FitNamespaceDeps } from './tuning/fit-namespace.js';
import { TuningStore, type NamespaceTuning } from './tuning/tuning-store.js';
import type { FusionMethod, Hit, SearchOptions } from './types.js';

/** The settings retrieval reads: its own slice, where the store lives, and which embedder fills it. */
export interface RetrievalSettings {
  retrieval: RetrievalConfig;
  data_dir: string;
  pipeline: { embedder: string };
}

export interface RetrievalDeps {
  metrics: Metrics;
  logger: Logger;
  /** Replicas sharing the store hear of each other's writes on Redis; without it, one process. */
  changes?: DeploymentRedis;
}

/**
 * Builds retrieval from config: the LanceDB store under `${data_dir}/lancedb`, the in-memory BM25
 * index rebuilt from it at `start()` and kept on the store's latest version by the IndexFollower,
 * fusion with the configured weights, and ingestion.
 */
export function createRetrieval(config: RetrievalSettings, deps: RetrievalDeps): Retrieval {
  const rc = config.retrieval;
  const logger = deps.logger.child({ component: 'retrieval' });
  const dir = indexDir(config);
  const lease = writeLease(rc, dir, deps, logger);
  const store = createStore(config, dir, lease, logger);
  const sparse = new Bm25Index({ k1: rc.bm25.k1, b: rc.bm25.b, d: rc.bm25.d }, (namespace) => store.fieldTypes(namespace));
  const follower = new IndexFollower({ store, sparse, feed: createFeed(rc, deps, logger), pollMs: rc.follow.poll_ms, logger });
  const announce = (namespace: string, docIds: string[]) => follower.announce(namespace, docIds);
  // A saved tuning is announced as a change with no documents: the namespace's version moves on
  // (answers cached at the old one are stale) and the other replicas re-read the tuning.
  const tuning = new TuningStore({ connection: () => store.connection(), lease, refreshMs: rc.follow.poll_ms, logger, onChanged: (namespace) => announce(namespace, []) });
  follower.onChange(({ namespace }) => tuning.markStale(namespace));
  const fitting: FitNamespaceDeps = { store, sparse, tuning, rc };
  const fitAtIngest = new FitAtIngest(fitting, logger);
  const ingestDeps: IngestDeps = {
    store,
    sparse,
    chunking: { maxTokens: rc.chunking.max_tokens, overlapTokens: rc.chunking.overlap_tokens },
    vector: { kind: rc.chunking.vector, sentenceMaxWords: rc.chunking.sentence_max_words },
    maxDocumentChars: rc.max_document_chars,
    embedBatchSize: rc.embed_batch_size,
    metrics: deps.metrics,
    onWritten: announce,
  };
  const configured = { weights: rc.weights, agreement: rc.agreement.enabled ? { depth: rc.agreement.depth, full: rc.agreement.full } : undefined };
  // A namespace's stored tuning replaces the configured fusion (and adapter) for that namespace only.
  const fuseWith = (tuned: NamespaceTuning | undefined, dense: Hit[], sparseHits: Hit[], method: FusionMethod, topK: number) =>
    fuse(dense, sparseHits, { method, topK, ...(tuned?.fusion ?? configured), rrfK: rc.rrf_k, normalization: rc.normalization });
  const searchDense = async (vector: Float32Array, options: SearchOptions) => {
    const adapter = (await tuning.get(options.namespace))?.adapter ?? queryAdapter;
    return store.search(adapter ? adapter.apply(vector) : vector, options);
  };

  let queryAdapter: QueryAdapter | undefined;

  return {
    store,
    sparse,
    tuning,
    fitTuning: (namespace, options) => fitNamespace(fitting, namespace, options),
    get queryAdapter() {
      return queryAdapter;
    },
    fuse: async (dense, sparseHits, { method, topK, namespace }) => fuseWith(await tuning.get(namespace), dense, sparseHits, method, topK),
    searchDense,
    ingest: async (namespace, documents, options) => {
      const result = await ingestDocuments(ingestDeps, namespace, documents, options);
      if (result.accepted.length > 0) fitAtIngest.afterIngest(namespace, options.embedder);
      return result;
    },
    deleteDocument: async (namespace, docId) => {
      const removed = await store.deleteDocument(namespace, docId);
      await sparse.deleteDocument(namespace, docId);
      if (removed > 0) await announce(namespace, [docId]);
      return removed;
    },
    getDocument: (namespace, docId, signal) => store.getDocument(namespace, docId, signal),
    namespaceExists: async (namespace) => (await store.count(namespace)) > 0,
    search: async (request) => hybridSearch({ rc, sparse, searchDense, fuse: fuseWith, tuned: await tuning.get(request.namespace) }, request),
    indexVersion: (namespace) => follower.version(namespace),
    heldVersion: (namespace) => follower.heldVersion(namespace),
    versionKey: (namespace) => follower.versionKey(namespace),
    onChange: (listener) => follower.onChange(listener),

    async start() {
      if (rc.query_adapter) queryAdapter = await QueryAdapter.load(rc.query_adapter);
      await store.open();
      await follower.start();
    },

    async close() {
      await fitAtIngest.close();
      await follower.close();
      await tuning.close();
      await store.close();
      sparse.clear();
    },
  };
}

/** Where the index lives: `retrieval.index_uri`, or `${data_dir}/lancedb`. */
function indexDir(config: RetrievalSettings): string {
  return config.retrieval.index_uri ?? join(config.data_dir, 'lancedb');
}

/** The LanceDB store in `dir`, with its ANN settings, cache bounds and write lease. */
function createStore(config: RetrievalSettings, dir: string, lease: RedisWriteLease | undefined, logger: Logger): LanceVectorStore {
  const { ann, lance_cache } = config.retrieval;
  return new LanceVectorStore({
    dir,
    cache: { indexBytes: lance_cache.index_bytes, metadataBytes: lance_cache.metadata_bytes },
    lease,
    logger,
    embedder: config.pipeline.embedder,
    ann: {
      minRows: ann.min_rows,
      numPartitions: ann.num_partitions,
      numSubVectors: ann.num_sub_vectors,
      nprobes: ann.nprobes,
      refineFactor: ann.refine_factor,
    },
  });
}

/** Plain S3 is the store whose commits we do not trust to exclude a concurrent writer (docs/OPERATIONS.md). */
const SINGLE_WRITER_URI = /^s3:\/\//i;
/** A commit holds the lease at most this long past its holder's last renewal. */
const LEASE_TTL_MS = 15_000;

function writeLease(rc: RetrievalConfig, dir: string, deps: RetrievalDeps, logger: Logger): RedisWriteLease | undefined {
  const single = rc.writers === 'one' || (rc.writers === 'auto' && SINGLE_WRITER_URI.test(dir));
  if (!single) return undefined;
  if (!deps.changes) {
    logger.warn({ index: dir }, 'retrieval.writers is one but there is no Redis for the lease: this process must be the only writer');
    return undefined;
  }
  return new RedisWriteLease(deps.changes.redis, { prefix: deps.changes.prefix, ttlMs: LEASE_TTL_MS, waitMs: LEASE_TTL_MS, logger });
}

function createFeed(rc: RetrievalConfig, deps: RetrievalDeps, logger: Logger): ChangeFeed {
  if (!deps.changes) return new LocalChangeFeed();
  return new RedisChangeFeed(deps.changes.redis, { prefix: deps.changes.prefix, timeoutMs: rc.follow.redis_timeout_ms, logger });
}

/** Dense, sparse, or both fused: what the search route and `pronto eval` both run. */
async function hybridSearch(
  parts: {
    rc: RetrievalConfig;
    sparse: Bm25Index;
    searchDense: (vector: Float32Array, options: SearchOptions) => Promise<Hit[]>;
    fuse: (tuned: NamespaceTuning | undefined, dense: Hit[], sparseHits: Hit[], method: FusionMethod, topK: number) => Hit[];
    /** The namespace's stored tuning, if any. */
    tuned: NamespaceTuning | undefined;
  },
  request: SearchRequest,
): Promise<Hit[]> {
  const { rc, sparse } = parts;
  if (!Number.isInteger(request.topK) || request.topK < 1 || request.topK > rc.max_top_k) {
    throw invalidInput('top_k', `top_k is an integer from 1 to ${rc.max_top_k}`);
  }
  // Hybrid: each retriever contributes `retrieval.candidates` and fusion keeps the best `topK`
  // of their union, exactly as the search route does (so eval measures what the route serves).
  const candidates = request.mode === 'hybrid' ? rc.candidates : request.topK;
  const options = { namespace: request.namespace, topK: candidates, filter: request.filter, signal: request.signal };
  const denseSearch = async () => {
    const vector = request.vector ?? (await request.embedder.embed([request.query], { signal: request.signal, input: 'query' }))[0];
    return parts.searchDense(vector, options);
  };
  if (request.mode === 'dense') return denseSearch();
  if (request.mode === 'sparse') return sparse.search(request.query, options);
  const [dense, sparseHits] = await Promise.all([denseSearch(), sparse.search(request.query, options)]);
  return parts.fuse(parts.tuned, dense, sparseHits, request.fusion ?? rc.fusion, request.topK);
}
