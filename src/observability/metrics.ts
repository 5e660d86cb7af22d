import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The metrics catalogue: every metric pronto exports, created per app on its own registry (no
 * global state, so tests can build many apps in one process). docs/METRICS.md lists them.
 */

/**
 * Fine below 100 ms (where stage budgets and a 1 s request budget are decided) so percentiles
 * interpolated from buckets stay within a few ms; coarse above, up to the 60 s deadline cap.
 */
export const LATENCY_BUCKETS = [
  0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.075, 0.09, 0.1, 0.125, 0.15, 0.2, 0.25,
  0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.25, 1.5, 2, 2.5, 3, 5, 10, 30, 60,
];
/** Gaps between streamed tokens: sub-millisecond for the extractive generator, tens of ms for an LLM. */
const INTER_TOKEN_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1];
const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * The metrics catalogue: every metric pronto exports, declared once with its name, help, labels
 * and buckets (docs/METRICS.md lists them). Long as a list is long: one declaration an entry, no logic.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  // Process and Node.js metrics keep their standard names (process_*, nodejs_*): stock dashboards
  // and alerts look for those, and prefixed copies fail `promtool check metrics`.
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters fail `promtool check metrics`; the per-type gauges without the
    // suffix (nodejs_active_handles{type}...) carry the same figures.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }
  const r = { registers: [registry] };
  return {
    registry,
    requests: new Counter({
      name: 'pronto_http_requests_total',
      help: 'HTTP requests by route and status, and by pipeline variant on the routes that have one',
      labelNames: ['method', 'route', 'status', 'variant'] as const,
      ...r,
    }),
    requestDuration: new Histogram({
      name: 'pronto_http_request_duration_seconds',
      help: 'HTTP request duration by route and status, and variant (streams: until the last byte)',
      labelNames: ['method', 'route', 'status', 'variant'] as const,
      buckets: LATENCY_BUCKETS,
      ...r,
    }),
    inFlight: new Gauge({ name: 'pronto_http_in_flight', help: 'Requests being served', ...r }),
    stageDuration: new Histogram({
      name: 'pronto_stage_duration_seconds',
      help: 'Pipeline stage duration',
      labelNames: ['flow', 'stage', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      ...r,
    }),
    timeToFirstToken: new Histogram({
      name: 'pronto_time_to_first_token_seconds',
      help: 'Time from request start to the first generated token',
      labelNames: ['flow', 'model'] as const,
      buckets: LATENCY_BUCKETS,
      ...r,
    }),
    interTokenLatency: new Histogram({
      name: 'pronto_inter_token_latency_seconds',
      help: 'Time between two consecutive tokens of one streamed answer',
      labelNames: ['flow', 'model'] as const,
      buckets: INTER_TOKEN_BUCKETS,
      ...r,
    }),
    tokensGenerated: new Counter({
      name: 'pronto_generated_tokens_total',
      help: 'Tokens of generations that finished (whole or truncated); cancelled ones are not counted',
      labelNames: ['model'] as const,
      ...r,
    }),
    degradations: new Counter({
      name: 'pronto_degradations_total',
      help: 'Stages that ran their fallback, by stage, reason and pipeline variant',
      labelNames: ['stage', 'reason', 'variant'] as const,
      ...r,
    }),
    rejections: new Counter({
      name: 'pronto_rejections_total',
      help: 'Requests or model calls refused before work started, by reason',
      labelNames: ['reason'] as const,
      ...r,
    }),
    batchSize: new Histogram({
      name: 'pronto_model_batch_size',
      help: 'Items per model batch',
      labelNames: ['model'] as const,
      buckets: SIZE_BUCKETS,
      ...r,
    }),
    batchWait: new Histogram({
      name: 'pronto_model_batch_wait_seconds',
      help: 'Time an item waited in the model queue before its batch ran',
      labelNames: ['model'] as const,
      buckets: LATENCY_BUCKETS,
      ...r,
    }),
    inferenceDuration: new Histogram({
      name: 'pronto_model_inference_duration_seconds',
      help: 'Time one batch spent in the model',
      labelNames: ['model'] as const,
      buckets: LATENCY_BUCKETS,
      ...r,
    }),
    batchFlushes: new Counter({
      name: 'pronto_model_batch_flushes_total',
      help: 'Batches run, by what triggered them (full, timeout, idle, token_budget)',
      labelNames: ['model', 'reason'] as const,
      ...r,
    }),
    modelQueueDepth: new Gauge({
      name: 'pronto_model_queue_depth',
      help: 'Items waiting for a model batch',
      labelNames: ['model'] as const,
      ...r,
    }),
    modelDropped: new Counter({
      name: 'pronto_model_items_dropped_total',
      help: 'Queued items dropped before inference because their request aborted or expired',
      labelNames: ['model', 'reason'] as const,
      ...r,
    }),
    modelCalls: new Counter({
      name: 'pronto_model_calls_total',
      help: 'Model calls by outcome (ok, error, fallback)',
      labelNames: ['model', 'outcome'] as const,
      ...r,
    }),
    cache: new Counter({
      name: 'pronto_cache_requests_total',
      help: 'Cache lookups by cache and result (hit_memory, hit_redis, hit_in_flight, miss)',
      labelNames: ['cache', 'result'] as const,
      ...r,
    }),
    cacheEvictions: new Counter({
      name: 'pronto_cache_evictions_total',
      help: 'Values the memory tier dropped before they were asked to: evict (bytes), expire (TTL)',
      labelNames: ['cache', 'reason'] as const,
      ...r,
    }),
    jobQueueDepth: new Gauge({
      name: 'pronto_job_queue_depth',
      help: 'Jobs by state',
      labelNames: ['state'] as const,
      ...r,
    }),
    jobs: new Counter({
      name: 'pronto_jobs_total',
      help: 'Finished jobs by kind and outcome',
      labelNames: ['kind', 'outcome'] as const,
      ...r,
    }),
    jobDuration: new Histogram({
      name: 'pronto_job_duration_seconds',
      help: 'Job run time by kind',
      labelNames: ['kind'] as const,
      buckets: LATENCY_BUCKETS,
      ...r,
    }),
    jobQueued: new Histogram({
      name: 'pronto_job_queued_seconds',
      help: 'Time a job waited before a worker started it',
      labelNames: ['kind'] as const,
      buckets: LATENCY_BUCKETS,
      ...r,
    }),
    documents: new Counter({
      name: 'pronto_ingested_documents_total',
      help: 'Documents ingested by outcome',
      labelNames: ['outcome'] as const,
      ...r,
    }),
    feedback: new Counter({
      name: 'pronto_feedback_total',
      help: 'Feedback received, by rating and the variant that served the rated answer',
      labelNames: ['rating', 'variant'] as const,
      ...r,
    }),
    variantRollbacks: new Counter({
      name: 'pronto_variant_rollbacks_total',
      help: 'Canary variants taken out of rotation automatically, by variant and the limit passed (error_ratio, p95)',
      labelNames: ['variant', 'reason'] as const,
      ...r,
    }),
    variantInRotation: new Gauge({
      name: 'pronto_variant_in_rotation',
      help: '1 while the variant takes its share of traffic, 0 once rolled back (until a config reload)',
      labelNames: ['variant'] as const,
      ...r,
    }),
    modelReady: new Gauge({
      name: 'pronto_model_ready',
      help: '1 once the model is loaded and warmed',
      labelNames: ['model'] as const,
      ...r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
