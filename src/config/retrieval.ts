import { Type, type Static } from '@sinclair/typebox';

const Normalization = Type.Union([Type.Literal('minmax'), Type.Literal('max'), Type.Literal('zscore'), Type.Literal('raw')], {
  default: 'zscore',
});

export const RetrievalSchema = Type.Object(
  {
    default_mode: Type.Union([Type.Literal('dense'), Type.Literal('sparse'), Type.Literal('hybrid')], {
      default: 'hybrid',
    }),
    /**
     * weighted + z-scores, dense 0.15 / sparse 0.85 with the agreement gate: chosen by 5-fold
     * cross-validation on SciFact train (docs/BENCHMARKS.md).
     */
    fusion: Type.Union([Type.Literal('rrf'), Type.Literal('weighted')], { default: 'weighted' }),
    rrf_k: Type.Number({ minimum: 1, default: 60 }),
    weights: Type.Object(
      {
        dense: Type.Number({ minimum: 0, default: 0.15 }),
        sparse: Type.Number({ minimum: 0, default: 0.85 }),
      },
      { default: {} },
    ),
    /**
     * Weighted fusion scales the dense weight by 1 - overlap / full, clamped to [0, 1], where
     * overlap is the share of documents the top `depth` of both lists hold: where the lists agree
     * BM25's order stands (src/retrieval/fusion.ts). Off: the dense weight is used as it is.
     */
    agreement: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        depth: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
        full: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.5 }),
      },
      { default: {} },
    ),
    /** How weighted fusion scales each list before summing (see src/retrieval/fusion.ts). */
    normalization: Type.Object(
      {
        dense: Normalization,
        sparse: Normalization,
      },
      { default: {} },
    ),
    /**
     * A query adapter file made by `pronto train-adapter` (a learned linear map applied to query
     * vectors before dense search; documents are not re-embedded). Unset: queries go as embedded.
     */
    query_adapter: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * How many candidates each retriever contributes before fusion. 200 rather than 100 keeps more
     * BM25 hits in the fused top 100 (SciFact train recall@100 0.921 -> 0.929) for ~0.5 ms.
     */
    candidates: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
    default_top_k: Type.Integer({ minimum: 1, default: 5 }),
    max_top_k: Type.Integer({ minimum: 1, default: 100 }),
    rerank: Type.Object(
      {
        /** Rerank by default when a reranker is configured. */
        enabled: Type.Boolean({ default: true }),
        top_n: Type.Integer({ minimum: 1, maximum: 200, default: 30 }),
      },
      { default: {} },
    ),
    chunking: Type.Object(
      {
        max_tokens: Type.Integer({ minimum: 16, default: 256 }),
        overlap_tokens: Type.Integer({ minimum: 0, default: 32 }),
        /**
         * How a chunk's vector is made: `passage` embeds title + text as one input; `sentences`
         * embeds the title and each sentence (cut to `sentence_max_words`) and averages them.
         */
        vector: Type.Union([Type.Literal('passage'), Type.Literal('sentences')], { default: 'sentences' }),
        sentence_max_words: Type.Integer({ minimum: 4, default: 40 }),
      },
      { default: {} },
    ),
    /**
     * Where the index lives: unset, `<data_dir>/lancedb`; else a directory or an object-storage URI
     * LanceDB opens (`s3://bucket/path`, `gs://`, `az://`, `s3+ddb://bucket/path?ddbTableName=…`),
     * with credentials from the environment as LanceDB reads them.
     */
    index_uri: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Who may commit at once. `many`: every replica and worker (LanceDB's commit refuses a second
     * commit of one version on a local or shared POSIX disk, GCS and Azure). `one`: one at a time,
     * under a lease on Redis. `auto`: `one` for plain `s3://`, `many` otherwise (docs/OPERATIONS.md).
     */
    writers: Type.Union([Type.Literal('auto'), Type.Literal('many'), Type.Literal('one')], { default: 'auto' }),
    /** How a replica follows the writes of others sharing its store (docs/OPERATIONS.md). */
    follow: Type.Object(
      {
        /** Table versions are compared with the in-memory indexes this often: the fallback for a missed change message (0: off). */
        poll_ms: Type.Integer({ minimum: 0, default: 1000 }),
        /** A change-feed command (version bump, publish) slower than this fails; the write itself stands. */
        redis_timeout_ms: Type.Integer({ minimum: 1, default: 1000 }),
      },
      { default: {} },
    ),
    ann: Type.Object(
      {
        /** Build an ANN index once a namespace holds this many chunks; exact search below. */
        min_rows: Type.Integer({ minimum: 1, default: 50000 }),
        num_partitions: Type.Optional(Type.Integer({ minimum: 1 })),
        num_sub_vectors: Type.Optional(Type.Integer({ minimum: 1 })),
        nprobes: Type.Integer({ minimum: 1, default: 20 }),
        refine_factor: Type.Integer({ minimum: 1, default: 10 }),
      },
      { default: {} },
    ),
    /**
     * LanceDB's caches in each process (native memory, outside the V8 heap). With its defaults (6 GB
     * of index, 1 GB of metadata) the metadata of every table version a process commits or checks
     * out piles up, 20–90 KB a version: a replica following the soak's writes cached 10 MB more a
     * minute and its RSS grew 14 MB a minute (docs/BENCHMARKS.md). The latest versions are what
     * reads need; raise metadata_bytes for many busy namespaces, and size index_bytes to the ANN
     * indexes searched.
     */
    lance_cache: Type.Object(
      {
        index_bytes: Type.Integer({ minimum: 0, default: 256 * 1024 * 1024 }),
        metadata_bytes: Type.Integer({ minimum: 0, default: 16 * 1024 * 1024 }),
      },
      { default: {} },
    ),
    /** Tuned on SciFact train (docs/BENCHMARKS.md): k1 1.5, b 0.75, plain BM25 (d 0) over title + text as one field. */
    bm25: Type.Object(
      {
        k1: Type.Number({ minimum: 0, default: 1.5 }),
        b: Type.Number({ minimum: 0, maximum: 1, default: 0.75 }),
        /** BM25+ floor for a matching term (0 = plain BM25). */
        d: Type.Number({ minimum: 0, default: 0 }),
      },
      { default: {} },
    ),
    /**
     * Label-free fusion tuning kept with each namespace (src/retrieval/tuning/): `pronto tune
     * NAMESPACE` fits and stores it; with `fit_every_documents` above 0 the process that ingests
     * also fits it once a namespace holds that many documents, and again each time it has grown by
     * as many. A namespace's stored tuning is used instead of `weights` / `agreement` (and its
     * adapter instead of `query_adapter`). Off by default: on SciFact train the label-free choice
     * scored below these defaults (docs/BENCHMARKS.md).
     */
    tuning: Type.Object(
      {
        fit_every_documents: Type.Integer({ minimum: 0, default: 0 }),
        /** Sentences held out of this many documents are the pseudo-queries of a fit. */
        pseudo_queries: Type.Integer({ minimum: 10, maximum: 5000, default: 500 }),
      },
      { default: {} },
    ),
    /** Chunks per embedder call during ingestion (the model runtime may merge calls into bigger batches). */
    embed_batch_size: Type.Integer({ minimum: 1, maximum: 1024, default: 64 }),
    max_document_chars: Type.Integer({ minimum: 1, default: 1_000_000 }),
    max_documents_per_request: Type.Integer({ minimum: 1, default: 1000 }),
  },
  { default: {} },
);

export type RetrievalConfig = Static<typeof RetrievalSchema>;
