import { Type, type Static } from '@sinclair/typebox';

export const JobsSchema = Type.Object(
  {
    /** Jobs accepted but not finished; POST /v1/jobs answers 429 beyond it. */
    max_queue_depth: Type.Integer({ minimum: 1, default: 10000 }),
    concurrency: Type.Integer({ minimum: 1, default: 4 }),
    timeout_ms: Type.Integer({ minimum: 1, default: 120000 }),
    attempts: Type.Integer({ minimum: 1, default: 3 }),
    backoff_ms: Type.Integer({ minimum: 0, default: 1000 }),
    /** How long finished jobs and their results are kept. */
    result_ttl_s: Type.Integer({ minimum: 1, default: 86400 }),
    callbacks: Type.Object(
      {
        /** Secret for the HMAC-SHA256 signature; set it in production (PRONTO_CALLBACK_SECRET). */
        secret: Type.String({ default: 'change-me' }),
        attempts: Type.Integer({ minimum: 1, default: 5 }),
        timeout_ms: Type.Integer({ minimum: 1, default: 5000 }),
        /** Allow callbacks to loopback, link-local and private addresses (tests, trusted networks). */
        allow_private: Type.Boolean({ default: false }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);

export type JobsConfig = Static<typeof JobsSchema>;
