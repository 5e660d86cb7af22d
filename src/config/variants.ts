import { Type, type Static } from '@sinclair/typebox';
import { RetrievalSchema } from './retrieval.js';

/**
 * Pipeline variants for A/B tests and canaries (`variants` in config; docs/CONFIG.md#variants).
 * Each names what it changes from the base pipeline; everything it does not name is the base's.
 */

/** The variant every request gets when `variants` is empty. */
export const DEFAULT_VARIANT = 'default';

const StageNames = ['sanitize', 'features', 'embed', 'retrieve', 'rerank', 'generate', 'postprocess'] as const;

/** Taken out of rotation when, over the last `window_s`, either limit is passed. */
const CanaryLimits = Type.Object(
  {
    /** Share of its requests that failed with a 5xx. */
    max_error_ratio: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
    /** Its p95 request latency. */
    max_p95_ms: Type.Number({ minimum: 1, default: 2000 }),
    window_s: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
    /** No verdict before the window holds this many requests: a handful is noise. */
    min_requests: Type.Integer({ minimum: 1, default: 20 }),
  },
  { additionalProperties: false },
);

const Fault = Type.Object(
  {
    mode: Type.Union([Type.Literal('throw'), Type.Literal('delay')]),
    delay_ms: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const retrievalOverride = RetrievalSchema.properties;

export const VariantSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }),
    /** Relative share of the traffic (0: only requests that force it). */
    weight: Type.Number({ minimum: 0 }),
    /** A canary: watched, and taken out of rotation when it passes a limit. */
    canary: Type.Optional(CanaryLimits),
    pipeline: Type.Optional(
      Type.Object(
        {
          embedder: Type.Optional(Type.String()),
          generator: Type.Optional(Type.String()),
          reranker: Type.Optional(Type.String()),
          fallback_generator: Type.Optional(Type.String()),
          max_answer_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    retrieval: Type.Optional(
      Type.Object(
        {
          default_mode: Type.Optional(retrievalOverride.default_mode),
          fusion: Type.Optional(retrievalOverride.fusion),
          rrf_k: Type.Optional(retrievalOverride.rrf_k),
          weights: Type.Optional(
            Type.Object({ dense: Type.Optional(Type.Number({ minimum: 0 })), sparse: Type.Optional(Type.Number({ minimum: 0 })) }, { additionalProperties: false }),
          ),
          candidates: Type.Optional(retrievalOverride.candidates),
          rerank: Type.Optional(
            Type.Object({ enabled: Type.Optional(Type.Boolean()), top_n: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }, { additionalProperties: false }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    /** Stage budgets (ms) that differ from deadline.budgets. */
    budgets: Type.Optional(Type.Partial(Type.Object(Object.fromEntries(StageNames.map((s) => [s, Type.Number({ minimum: 1 })]))), { additionalProperties: false })),
    /** Read this namespace where a request reads the default one (e.g. the corpus indexed by the variant's embedder). */
    namespace: Type.Optional(Type.String({ minLength: 1 })),
    /** Test hook, as `faults`: only this variant's requests fail or stall. Never set in production. */
    faults: Type.Optional(Type.Record(Type.String(), Fault)),
  },
  { additionalProperties: false },
);

export const VariantsSchema = Type.Array(VariantSchema, { default: [] });

export type VariantConfig = Static<typeof VariantSchema>;
export type CanaryConfig = NonNullable<VariantConfig['canary']>;
