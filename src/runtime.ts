import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { createJobHandlers } from './jobs/handlers.js';
import { createJobQueue } from './jobs/queue.js';
import type { JobQueue } from './jobs/types.js';
import { createModelRuntime } from './models/create-runtime.js';
import type { ModelRuntime } from './models/runtime.js';
import { createFeedbackSink, type FeedbackSink } from './observability/feedback.js';
import { createRequestLedger, type RequestLedger } from './observability/request-ledger.js';
import { createLogger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createTracing, type Tracing } from './observability/tracing.js';
import { RecentRequests } from './observability/recent-requests.js';
import { createRequestLog, requestLogDir, type RequestLog } from './observability/request-log.js';
import { createStatsRecorder, type StatsRecorder } from './observability/stats.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createPipeline } from './pipeline/create-pipeline.js';
import { createVariantRouter, type VariantRouter } from './pipeline/variants/router.js';
import { fileFeatureSource, redisFeatureSource } from './pipeline/stages/features.js';
import { createRedactor, type Redactor } from './core/redact.js';
import type { Pipeline } from './pipeline/types.js';
import { createRetrieval } from './retrieval/create-retrieval.js';
import type { Retrieval } from './retrieval/retrieval.js';
import type { QueryAdapter } from './retrieval/query-adapter.js';
import type { Embedder } from './models/types.js';
import { ConfigError } from './core/errors.js';
import { ensureSampleCorpus } from './retrieval/sample-corpus.js';
import { scopedNamespace } from './pipeline/context.js';
import type { ApiKeyRecord } from './config/auth.js';
import { loadKeyRecords } from './config/keys.js';
import { createConfigReloads, type ConfigReloads } from './config/reload.js';

/** Everything a pronto process serves with, built from config by one function (no globals). */
export interface Runtime {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  tracing: Tracing;
  models: ModelRuntime;
  retrieval: Retrieval;
  pipeline: Pipeline;
  /** A/B and canary variants: which one serves a request, and the canaries' health. */
  variants: VariantRouter;
  jobs: JobQueue;
  redactor: Redactor;
  feedback: FeedbackSink;
  /** Which tenant made which request (feedback is only accepted from it). */
  requests: RequestLedger;
  /** Per-second aggregates for the dashboard. */
  stats: StatsRecorder;
  /** The dashboard's request view. */
  recentRequests: RecentRequests;
  /** The sampled, redacted request log for datasets (`pronto export-log`). */
  requestLog: RequestLog;
  redis?: Redis;
  /** Config reloads (SIGHUP, file changes): subscribe to apply reloadable settings. */
  reloads: ConfigReloads;
  /** The API keys now in force (config and keys file; replaced on each accepted reload). */
  keys(): readonly ApiKeyRecord[];
  /** True once models are loaded and warmed and the index is open. */
  readonly ready: boolean;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  logger?: Logger;
  /** Skips prom-client's process metrics (tests building many runtimes). */
  defaultMetrics?: boolean;
  /** Where spans go instead of OTLP (tests). */
  spanExporter?: SpanExporter;
  /**
   * Sample-corpus vectors by embedder config, then by text, shared by the runtimes a process
   * builds: the test suite starts dozens of servers, and embedding the corpus again for each
   * was most of its run time. Production builds one runtime and leaves this out.
   */
  sampleCorpusVectors?: Map<string, Map<string, Float32Array>>;
  /** What a reload reads (the CLI re-reads its file and env); default: the start-up config again. */
  reloadConfig?: () => Config;
  /** Files whose change reloads (the config file); auth.keys_file is always watched. */
  watchFiles?: string[];
}

/**
 * The composition root: every service built from config, in dependency order, and the order
 * they start and close in. Long because it is the one list of them; each line builds one.
 */
export function createRuntime(config: Config, options: RuntimeOptions = {}): Runtime {
  const logger = options.logger ?? createLogger(config.observability.log_level);
  const metrics = createMetrics({ defaultMetrics: options.defaultMetrics });
  const redis = config.redis_url ? new Redis(config.redis_url, { lazyConnect: true, maxRetriesPerRequest: 2 }) : undefined;
  // Without a listener ioredis prints every reconnect failure to stderr past the logger; the
  // services on this client already degrade on their own while Redis is away.
  redis?.on('error', (err: Error) => logger.warn({ err: err.message }, 'Redis connection error'));
  const tracing = createTracing(options.spanExporter);
  const models = createModelRuntime(config, { metrics, logger, tracer: tracing.tracer });
  // The Redis keys of this deployment (change feed, write lease, feedback, request ledger) are under its prefix.
  const deployment = redis && { redis, prefix: config.jobs.prefix };
  const retrieval = createRetrieval(config, { metrics, logger, changes: deployment });
  const redactor = createRedactor(config.pii);
  const features = redis ? redisFeatureSource(config.features, redis) : fileFeatureSource(config.features);
  const variants = createVariantRouter(config.variants, { metrics, logger });
  const pipeline = createPipeline({ config, metrics, models, retrieval, redactor, features, tracer: tracing.tracer, variants, redis });
  const jobs = createJobQueue(config, { metrics, logger, handlers: createJobHandlers(pipeline, config), redact: redactor.redact });
  const stats = createStatsRecorder(metrics.registry);
  const requestLog = createRequestLog({
    dir: requestLogDir(config.data_dir),
    sampleRate: config.observability.request_log.sample_rate,
    maxFileBytes: config.observability.request_log.max_file_bytes,
    maxFiles: config.observability.request_log.max_files,
    redact: redactor.redact,
    onError: (err) => logger.error({ err }, 'request log write failed'),
  });
  let keys = loadKeyRecords(config.auth);
  if (config.auth.api_keys.length > 0) {
    logger.warn('auth.api_keys holds plain keys (deprecated): move each to auth.keys as {id, tenant, sha256} (sha256: `printf %s KEY | sha256sum`), see docs/SECURITY.md');
  }
  const reloads = createConfigReloads(config, {
    load: options.reloadConfig ?? (() => config),
    files: [...(options.watchFiles ?? []), ...(config.auth.keys_file === undefined ? [] : [config.auth.keys_file])],
    onReload: (reason) => logger.info({ reason, keys: keys.length }, 'config reloaded'),
    onError: (err, reason) => logger.error({ err, reason }, 'config reload refused: the running config is unchanged'),
  });
  reloads.subscribe((next) => {
    keys = loadKeyRecords(next.auth);
  });
  // A reload applies the variants' weights and limits and puts rolled-back canaries back.
  reloads.subscribe((next) => variants.reload(next.variants));
  const requests = createRequestLedger(deployment, { ttlS: config.observability.ratable_for_s });
  let ready = false;

  return {
    config,
    logger,
    metrics,
    tracing,
    models,
    retrieval,
    pipeline,
    variants,
    jobs,
    redactor,
    feedback: createFeedbackSink(deployment),
    requests,
    stats,
    recentRequests: new RecentRequests(),
    requestLog,
    redis,
    reloads,
    keys: () => keys,
    get ready() {
      return ready;
    },
    async start() {
      const startedAt = performance.now();
      if (redis) await redis.connect();
      await Promise.all([models.start(), retrieval.start()]);
      assertAdapterFits(retrieval.queryAdapter, models.embedder(config.pipeline.embedder));
      if (config.sample_corpus.enabled) {
        // Every tenant that can call gets its own copy: with keys, each key's tenant (the `public`
        // tenant is then unreachable); without, `public`.
        const keyed = [...new Set(keys.map((k) => k.tenant))];
        const tenants = keyed.length > 0 ? keyed : ['public'];
        await ensureSampleCorpus(
          retrieval,
          models.embedder(config.pipeline.embedder),
          tenants.map((tenant) => scopedNamespace(tenant, config.sample_corpus.namespace)),
          logger,
          { vectors: sharedSampleVectors(config, options.sampleCorpusVectors) },
        );
      }
      ready = true;
      // The in-process queue always needs its worker; on Redis, `--role all` runs one here too.
      if (!config.redis_url || config.server.role === 'all') await jobs.startWorker();
      logger.info({ ms: Math.round(performance.now() - startedAt) }, 'runtime ready: models loaded and warmed');
    },
    async close() {
      ready = false;
      reloads.close();
      stats.stop();
      // Running jobs finish (within the grace period) before the models they use close.
      await jobs.close();
      await Promise.allSettled([models.close(), retrieval.close(), tracing.shutdown(), requestLog.flush(), requests.flush()]);
      redis?.disconnect();
    },
  };
}

/** An adapter maps one embedder's query vectors: with another embedder its output means nothing. */
function assertAdapterFits(adapter: QueryAdapter | undefined, embedder: Embedder): void {
  if (adapter && (adapter.info.dimensions !== embedder.dimensions || adapter.info.embedder !== embedder.name)) {
    throw new ConfigError(
      'retrieval.query_adapter',
      `the adapter was trained for ${adapter.info.embedder} (${adapter.info.dimensions}-d); pipeline.embedder is ${embedder.name} (${embedder.dimensions}-d)`,
    );
  }
}

/** The caller's memo of sample-corpus vectors for this config's embedder (keyed by its whole config, so a different model or option never shares). */
function sharedSampleVectors(config: Config, byEmbedder: RuntimeOptions['sampleCorpusVectors']): Map<string, Float32Array> | undefined {
  if (byEmbedder === undefined) return undefined;
  const key = JSON.stringify(config.models.find((model) => model.name === config.pipeline.embedder));
  let vectors = byEmbedder.get(key);
  if (vectors === undefined) byEmbedder.set(key, (vectors = new Map()));
  return vectors;
}
