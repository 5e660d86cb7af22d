import { Type, type Static } from '@sinclair/typebox';

const MiB = 1024 * 1024;

/** One cache's settings: its memory tier's bytes and how long a value is served (memory and Redis). */
function tier(memoryBytes: number, ttlS: number) {
  return {
    /** Bytes of values the memory tier of each process holds (least recently used go first); 0: no memory tier. */
    memory_bytes: Type.Integer({ minimum: 0, default: memoryBytes }),
    /** Seconds a value is served, from memory and from Redis. */
    ttl_s: Type.Integer({ minimum: 1, default: ttlS }),
    /** Whether this cache also keeps values in Redis (shared by replicas) when REDIS_URL is set. */
    redis: Type.Boolean({ default: true }),
  };
}

export const CacheSchema = Type.Object(
  {
    /** Query and text vectors, by model and text. */
    embedding: Type.Object(tier(32 * MiB, 86400), { default: {} }),
    /**
     * Whole `/v1/search` and `/v1/infer` (and `/v1/chat`) results, by tenant, namespace, variant
     * and the normalised request, each served only if built on the namespace's current index
     * version. `enabled: false` turns them off.
     */
    results: Type.Object({ enabled: Type.Boolean({ default: true }), ...tier(32 * MiB, 300) }, { default: {} }),
    /**
     * Opt-in: an answer cached for a question whose embedding is within `min_cosine` of the new
     * one's (same tenant, namespace, index version and variant) serves the new question. The
     * index of questions is per process; the answers themselves are in the results cache.
     */
    semantic: Type.Object(
      {
        enabled: Type.Boolean({ default: false }),
        min_cosine: Type.Number({ minimum: 0, maximum: 1, default: 0.95 }),
        /** Questions kept per tenant, namespace, version and variant (each a vector), oldest go first. */
        max_questions: Type.Integer({ minimum: 1, default: 1000 }),
      },
      { default: {} },
    ),
    /** User features, by user (memory only: their source is Redis or a file already). */
    features: Type.Object(
      {
        memory_bytes: Type.Integer({ minimum: 0, default: 4 * MiB }),
        ttl_s: Type.Integer({ minimum: 1, default: 60 }),
      },
      { default: {} },
    ),
    /** Redis key prefix of the caches (`<prefix>:cache:…`; the index versions are under `jobs.prefix`). */
    prefix: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', default: 'pronto' }),
    /** A Redis cache call slower than this counts as a miss. */
    redis_timeout_ms: Type.Integer({ minimum: 1, default: 5 }),
    /** Consecutive failed Redis cache calls (errors, timeouts) after which Redis is skipped... */
    redis_failures_to_open: Type.Integer({ minimum: 1, default: 5 }),
    /** ...for this long, before one call tries it again. */
    redis_retry_after_ms: Type.Integer({ minimum: 1, default: 5000 }),
  },
  { default: {} },
);

export type CacheConfig = Static<typeof CacheSchema>;
