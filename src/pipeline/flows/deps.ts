import type { Tracer } from '@opentelemetry/api';
import type { AnswerConfig } from '../../config/answer.js';
import type { FlowsConfig } from '../../config/flows.js';
import type { RetrievalConfig } from '../../config/retrieval.js';
import type { CacheConfig, FeaturesConfig, PipelineConfig, SampleCorpusConfig } from '../../config/schema.js';
import type { TieredCache } from '../../core/cache.js';
import type { RedactionOptions, Redactor } from '../../core/redact.js';
import type { ModelRuntime } from '../../models/runtime.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Retrieval } from '../../retrieval/retrieval.js';
import type { StageRunnerConfig } from '../stage-runner.js';
import type { FeatureSource } from '../stages/features.js';
import type { ResultCache } from '../result-cache.js';

/**
 * The settings the pipeline reads: its own slices of the config, not the composed `Config` (which
 * satisfies this, so the composition root passes it unchanged).
 */
export interface PipelineSettings extends StageRunnerConfig {
  pipeline: PipelineConfig;
  retrieval: RetrievalConfig;
  answer: AnswerConfig;
  features: FeaturesConfig;
  sample_corpus: SampleCorpusConfig;
  cache: CacheConfig;
  flows: FlowsConfig;
  /** The sanitize stage's rules (the redactor is built from them): part of every results-cache key. */
  pii: RedactionOptions;
}

/** What every flow is built from (the same for all four, so they compose the same way). */
export interface FlowDeps {
  config: PipelineSettings;
  metrics: Metrics;
  tracer: Tracer;
  models: ModelRuntime;
  retrieval: Retrieval;
  redactor: Redactor;
  features: FeatureSource;
  /** Query and text vectors, one cache per pipeline shared by every flow. */
  embeddingCache: TieredCache<Float32Array>;
  /** Search and answer results (and the semantic answer cache), keyed by the namespaces' index versions. */
  results: ResultCache;
}
