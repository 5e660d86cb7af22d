import type { Tracer } from '@opentelemetry/api';
import type { Config } from '../../config/schema.js';
import type { TieredCache } from '../../core/cache.js';
import type { Redactor } from '../../core/redact.js';
import type { ModelRuntime } from '../../models/runtime.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Retrieval } from '../../retrieval/retrieval.js';
import type { FeatureSource } from '../stages/features.js';

/** What every flow is built from (the same for all four, so they compose the same way). */
export interface FlowDeps {
  config: Config;
  metrics: Metrics;
  tracer: Tracer;
  models: ModelRuntime;
  retrieval: Retrieval;
  redactor: Redactor;
  features: FeatureSource;
  /** Query and text vectors, one cache per pipeline shared by every flow. */
  embeddingCache: TieredCache<Float32Array>;
}
