import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_MODELS, ModelSchema } from './models.js';
import { RetrievalSchema } from './retrieval.js';
import { JobsSchema } from './jobs.js';
import { AnswerSchema } from './answer.js';
import { VariantsSchema } from './variants.js';
import { AuthSchema } from './auth.js';
import { CacheSchema } from './cache.js';
import { FlowsSchema } from './flows.js';

/**
 * The one configuration schema. Every key has a default that runs with no services and no
 * downloads; docs/CONFIG.md explains each. Loaded by ./load.ts from a YAML/JSON file and env.
 */

const StageBudgets = Type.Object(
  {
    sanitize: Type.Number({ minimum: 1, default: 50 }),
    features: Type.Number({ minimum: 1, default: 50 }),
    embed: Type.Number({ minimum: 1, default: 500 }),
    retrieve: Type.Number({ minimum: 1, default: 300 }),
    rerank: Type.Number({ minimum: 1, default: 300 }),
    generate: Type.Number({ minimum: 1, default: 5000 }),
    postprocess: Type.Number({ minimum: 1, default: 50 }),
  },
  { default: {} },
);

/** A test hook: make a stage fail or stall, to exercise fallbacks end to end. */
const Fault = Type.Object({
  mode: Type.Union([Type.Literal('throw'), Type.Literal('delay')]),
  delay_ms: Type.Optional(Type.Number({ minimum: 0 })),
});

const PiiPattern = Type.Object({
  name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_]+$' }),
  regex: Type.String({ minLength: 1 }),
  flags: Type.String({ default: 'g' }),
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LogLevel = Type.Union(
  LOG_LEVELS.map((level) => Type.Literal(level)),
  { default: 'info' },
);

export const ConfigSchema = Type.Object({
  server: Type.Object(
    {
      /** Loopback by default: serving other machines is a decision (see auth.allow_anonymous). */
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
      /** The gRPC API's port (pronto.v1.Pronto, health, reflection); unset: no gRPC. 0: any free port. */
      grpc_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      role: Type.Union([Type.Literal('api'), Type.Literal('all')], { default: 'all' }),
      body_limit_bytes: Type.Integer({ minimum: 1024, default: 1_048_576 }),
      /**
       * On SIGTERM /readyz answers 503 at once while everything else is still served this long,
       * so load balancers stop sending traffic before the listener closes.
       */
      drain_ms: Type.Integer({ minimum: 0, default: 5000 }),
      /** After the drain: how long requests and streams in flight get to finish. */
      shutdown_grace_ms: Type.Integer({ minimum: 0, default: 10000 }),
      /** Requests carried at once before new ones get 503 (admission at the front door). */
      max_in_flight: Type.Integer({ minimum: 1, default: 2048 }),
      /**
       * Refuse /v1 work (503) while the event loop lags more than this: under overload the loop
       * itself saturates and queued requests would wait seconds before any other check sees them.
       * 0 turns it off.
       */
      max_event_loop_delay_ms: Type.Integer({ minimum: 0, default: 2000 }),
    },
    { default: {} },
  ),
  auth: AuthSchema,
  rate_limit: Type.Object(
    {
      enabled: Type.Boolean({ default: false }),
      max_per_minute: Type.Integer({ minimum: 1, default: 600 }),
      /** A Redis answer slower than this is counted on this replica instead (every per-key limit too). */
      redis_timeout_ms: Type.Integer({ minimum: 1, default: 50 }),
    },
    { default: {} },
  ),
  limits: Type.Object(
    {
      max_text_chars: Type.Integer({ minimum: 1, default: 32000 }),
      max_messages: Type.Integer({ minimum: 1, default: 64 }),
      max_embedding_inputs: Type.Integer({ minimum: 1, default: 2048 }),
      max_tokens: Type.Integer({ minimum: 1, default: 1024 }),
    },
    { default: {} },
  ),
  deadline: Type.Object(
    {
      default_ms: Type.Integer({ minimum: 1, default: 10000 }),
      /** Requests may ask for less (header `x-pronto-deadline-ms`), never more than this. */
      max_ms: Type.Integer({ minimum: 1, default: 60000 }),
      /**
       * The budget of an ingest request (`POST /v1/documents`), which waits for model capacity
       * behind queries instead of being refused: longer than interactive requests.
       */
      ingest_ms: Type.Integer({ minimum: 1, default: 120000 }),
      budgets: StageBudgets,
    },
    { default: {} },
  ),
  pii: Type.Object(
    {
      enabled: Type.Boolean({ default: true }),
      /** Built-in detectors to run. */
      detectors: Type.Array(
        Type.Union([
          Type.Literal('ssn'),
          Type.Literal('email'),
          Type.Literal('phone'),
          Type.Literal('credit_card'),
          Type.Literal('ipv4'),
          Type.Literal('ipv6'),
        ]),
        { default: ['ssn', 'email', 'credit_card', 'ipv6', 'ipv4', 'phone'] },
      ),
      /** Extra patterns, redacted as `[NAME]`. */
      patterns: Type.Array(PiiPattern, { default: [] }),
    },
    { default: {} },
  ),
  features: Type.Object(
    {
      /** JSON file `{ "user-id": { "tier": "pro", ... } }`; with REDIS_URL the hash `pronto:user:<id>` is read instead. */
      file: Type.Optional(Type.String()),
      fields: Type.Array(Type.String(), { default: ['tier'] }),
      defaults: Type.Record(Type.String(), Type.String(), { default: { tier: 'free' } }),
    },
    { default: {} },
  ),
  models: Type.Array(ModelSchema, { default: DEFAULT_MODELS }),
  pipeline: Type.Object(
    {
      embedder: Type.String({ default: 'use-lite' }),
      generator: Type.String({ default: 'extractive' }),
      reranker: Type.Optional(Type.String()),
      /** The generator of last resort, used when the configured one fails. */
      fallback_generator: Type.String({ default: 'extractive' }),
      max_answer_tokens: Type.Integer({ minimum: 1, default: 256 }),
    },
    { default: {} },
  ),
  answer: AnswerSchema,
  /** A/B and canary variants of the pipeline (docs/CONFIG.md#variants); empty: one pipeline, variant `default`. */
  variants: VariantsSchema,
  /** Multi-step flows (docs/FLOWS.md), run by `/v1/chat` with `flow` and by `flow` jobs. */
  flows: FlowsSchema,
  retrieval: RetrievalSchema,
  jobs: JobsSchema,
  cache: CacheSchema,
  data_dir: Type.String({ default: './data' }),
  redis_url: Type.Optional(Type.String()),
  sample_corpus: Type.Object(
    {
      /** Ingest the bundled corpus into `namespace` on start when that namespace is empty. */
      enabled: Type.Boolean({ default: true }),
      namespace: Type.String({ default: 'default' }),
    },
    { default: {} },
  ),
  observability: Type.Object(
    {
      log_level: LogLevel,
      /** A request slower than this logs a warning with its stage breakdown. */
      slow_request_ms: Type.Integer({ minimum: 1, default: 1000 }),
      otlp_endpoint: Type.Optional(Type.String()),
      /** The default service.name; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over it. */
      service_name: Type.String({ default: 'pronto' }),
      /**
       * How long after its answer a request can be rated (POST /v1/feedback): each answered
       * request is remembered this long, in Redis when configured (~180 bytes a request there).
       */
      ratable_for_s: Type.Integer({ minimum: 1, default: 86_400 }),
      request_log: Type.Object(
        {
          /** Share of answered requests recorded (redacted) for datasets; 0 turns the log off. */
          sample_rate: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }),
          /** The live file rotates past this size... */
          max_file_bytes: Type.Integer({ minimum: 1024, default: 16 * 1024 * 1024 }),
          /** ...keeping this many files in all. */
          max_files: Type.Integer({ minimum: 1, default: 5 }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
  /** Test hooks, keyed by stage name. Never set in production. */
  faults: Type.Record(Type.String(), Fault, { default: {} }),
});

export type Config = Static<typeof ConfigSchema>;
export type StageName = keyof Static<typeof StageBudgets>;

/*
 * Each domain takes its own slice of the config, named here, rather than the whole `Config`:
 * only the composition root (src/runtime.ts) and the CLI see every key.
 */
export type ObservabilityConfig = Config['observability'];
/** The models a request's stages use (`pipeline`). */
export type PipelineConfig = Config['pipeline'];
export type DeadlineConfig = Config['deadline'];
export type FaultsConfig = Config['faults'];
export type FeaturesConfig = Config['features'];
export type CacheConfig = Config['cache'];
export type SampleCorpusConfig = Config['sample_corpus'];
