import type { CacheConfig } from '../config/cache.js';
import { TieredCache, float32Codec, jsonCodec, type CacheCodec, type RedisLike } from '../core/cache.js';
import { createRedisGuard } from '../core/redis-guard.js';
import type { Metrics } from '../observability/metrics.js';
import { createResultCache, type CachedResult, type ResultCache, type ResultVersions } from './result-cache.js';
import { SemanticIndex } from './semantic-index.js';
import type { UserFeatures } from './stages/features.js';

/**
 * Every cache a pipeline uses, built from `cache` config; their Redis tiers share one guard.
 * Redis keys: `<prefix>:cache:<cache>:<key>`. Results are checked against retrieval's index
 * versions, read from the same Redis (`redis` must be the one retrieval's change feed uses).
 */
export interface PipelineCaches {
  embeddings: TieredCache<Float32Array>;
  results: ResultCache;
  features: TieredCache<UserFeatures>;
}

export function createCaches(config: CacheConfig, metrics: Metrics, versions: ResultVersions, redis?: RedisLike): PipelineCaches {
  const guard = redis
    ? createRedisGuard({ timeoutMs: config.redis_timeout_ms, failureThreshold: config.redis_failures_to_open, halfOpenAfterMs: config.redis_retry_after_ms })
    : undefined;

  function cache<V>(name: string, codec: CacheCodec<V>, settings: { memory_bytes: number; ttl_s: number; redis?: boolean }): TieredCache<V> {
    return new TieredCache<V>({
      name,
      memoryBytes: settings.memory_bytes,
      ttlMs: settings.ttl_s * 1000,
      codec,
      redis: redis && guard && settings.redis ? { client: redis, guard, prefix: `${config.prefix}:cache:${name}:` } : undefined,
      onLookup: (cache, result) => metrics.cache.inc({ cache, result }),
      onEvict: (cache, reason) => metrics.cacheEvictions.inc({ cache, reason }),
    });
  }

  return {
    embeddings: cache('embedding', float32Codec, config.embedding),
    features: cache('features', jsonCodec<UserFeatures>(), { ...config.features, redis: false }),
    results: createResultCache({
      cache: config.results.enabled ? cache('results', jsonCodec<CachedResult>(), config.results) : undefined,
      versions,
      semantic: config.semantic.enabled ? new SemanticIndex({ minCosine: config.semantic.min_cosine, maxQuestions: config.semantic.max_questions }) : undefined,
    }),
  };
}
