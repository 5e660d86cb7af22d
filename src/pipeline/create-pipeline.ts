import type { Tracer } from '@opentelemetry/api';
import type { Config } from '../config/schema.js';
import { TieredCache, float32Codec, type RedisLike } from '../core/cache.js';
import type { Redactor } from '../core/redact.js';
import type { ModelRuntime } from '../models/runtime.js';
import type { Metrics } from '../observability/metrics.js';
import type { Retrieval } from '../retrieval/retrieval.js';
import { createAnswerFlow } from './flows/answer.js';
import { createEmbedFlow } from './flows/embed.js';
import { createIngestFlow } from './flows/ingest.js';
import { createSearchFlow } from './flows/search.js';
import type { FeatureSource } from './stages/features.js';
import type { Pipeline } from './types.js';

export interface PipelineDeps {
  config: Config;
  metrics: Metrics;
  models: ModelRuntime;
  retrieval: Retrieval;
  redactor: Redactor;
  features: FeatureSource;
  tracer: Tracer;
  /** Shared cache tier for embeddings (all replicas), when REDIS_URL is set. */
  redis?: RedisLike;
}

/**
 * The pipeline: one flow per file under ./flows (search, answer + complete, embed, ingest), each
 * built from the same deps and composing only the stages it runs, under the request's deadline.
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { config } = deps;
  const embeddingCache = new TieredCache<Float32Array>({
    name: 'embedding',
    maxEntries: config.cache.embedding_entries,
    redis:
      deps.redis && config.cache.embedding_redis_ttl_s > 0
        ? { client: deps.redis, prefix: 'pronto:emb:', ttlMs: config.cache.embedding_redis_ttl_s * 1000, codec: float32Codec, timeoutMs: config.cache.redis_timeout_ms }
        : undefined,
    onLookup: (cache, result) => deps.metrics.cache.inc({ cache, result }),
  });
  const flowDeps = { ...deps, embeddingCache };
  return { ...createSearchFlow(flowDeps), ...createAnswerFlow(flowDeps), ...createEmbedFlow(flowDeps), ...createIngestFlow(flowDeps) };
}
