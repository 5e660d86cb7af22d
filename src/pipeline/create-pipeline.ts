import type { Tracer } from '@opentelemetry/api';
import { variantConfig } from '../config/variant-config.js';
import type { VariantConfig } from '../config/variants.js';
import type { RedisLike } from '../core/cache.js';
import { createCaches } from './caches.js';
import type { Redactor } from '../core/redact.js';
import type { ModelRuntime } from '../models/runtime.js';
import type { Metrics } from '../observability/metrics.js';
import type { Retrieval } from '../retrieval/retrieval.js';
import { createAnswerFlow } from './flows/answer.js';
import type { FlowDeps, PipelineSettings } from './flows/deps.js';
import { createEmbedFlow } from './flows/embed.js';
import { createIngestFlow } from './flows/ingest.js';
import { createToolTurnFlow } from './flows/tool-turn.js';
import { createOrchestratedFlows } from './flows/orchestrated.js';
import { createSearchFlow } from './flows/search.js';
import { cachedFeatureSource, type FeatureSource } from './stages/features.js';
import type { Pipeline, RequestContext } from './types.js';
import type { VariantRouter } from './variants/router.js';

export interface PipelineDeps {
  config: PipelineSettings;
  metrics: Metrics;
  models: ModelRuntime;
  retrieval: Retrieval;
  redactor: Redactor;
  features: FeatureSource;
  tracer: Tracer;
  /** The configured variants: a request runs the flows of its context's variant. */
  variants: VariantRouter;
  /** The caches' shared tier (all replicas), when REDIS_URL is set. */
  redis?: RedisLike;
}

/**
 * The pipeline: one flow per file under ./flows (search, answer + complete, embed, ingest; and
 * orchestrated.ts, the multi-step flows of config), each built from the same deps and composing only the stages it runs, under the request's deadline.
 * Each variant gets flows of its own, built from its config (models, retrieval, budgets) on its
 * first request; writes (ingest, delete) are never split and run the base flows.
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { config } = deps;
  // One set of caches for every variant: results are keyed by the variant, vectors by the model.
  const caches = createCaches(config.cache, deps.metrics, deps.retrieval, deps.redis);
  const shared = { features: cachedFeatureSource(deps.features, caches.features), embeddingCache: caches.embeddings, results: caches.results };
  const base = createFlows({ ...deps, ...shared });
  // Keyed by the variant's config object: a reload brings new objects, so new flows.
  const byVariant = new WeakMap<VariantConfig, Pipeline>();
  const variantOf = (ctx: RequestContext) => deps.variants.variants.find((v) => v.name === ctx.variant);
  function flowsFor(ctx: RequestContext): Pipeline {
    const variant = variantOf(ctx);
    if (!variant) return base;
    let flows = byVariant.get(variant);
    if (!flows) byVariant.set(variant, (flows = createFlows({ ...deps, ...shared, config: variantConfig(config, variant) })));
    return flows;
  }
  /** The variant's namespace where the request reads the default one. */
  function namespaceFor(ctx: RequestContext, namespace: string): string {
    const own = variantOf(ctx)?.namespace;
    return own && namespace === config.sample_corpus.namespace ? own : namespace;
  }
  return {
    search: (input, ctx) => flowsFor(ctx).search({ ...input, namespace: namespaceFor(ctx, input.namespace) }, ctx),
    answer: (input, ctx) => flowsFor(ctx).answer({ ...input, namespace: namespaceFor(ctx, input.namespace) }, ctx),
    complete: (input, ctx) => flowsFor(ctx).complete(input, ctx),
    callTools: (input, ctx) => flowsFor(ctx).callTools(input, ctx),
    embed: (input, ctx) => flowsFor(ctx).embed(input, ctx),
    flow: (input, ctx) => flowsFor(ctx).flow({ ...input, namespace: namespaceFor(ctx, input.namespace) }, ctx),
    ingest: base.ingest,
    deleteDocument: base.deleteDocument,
  };
}

function createFlows(deps: FlowDeps): Pipeline {
  return {
    ...createSearchFlow(deps),
    ...createAnswerFlow(deps),
    ...createEmbedFlow(deps),
    ...createIngestFlow(deps),
    ...createOrchestratedFlows(deps),
    ...createToolTurnFlow(deps),
  };
}
