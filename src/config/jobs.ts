import { Type, type Static } from '@sinclair/typebox';

export const JobsSchema = Type.Object(
  {
    /** Jobs accepted but not finished; POST /v1/jobs answers 429 beyond it. */
    max_queue_depth: Type.Integer({ minimum: 1, default: 10000 }),
    /** Seconds a client is told to wait (Retry-After) when the queue is full. */
    retry_after_s: Type.Integer({ minimum: 1, default: 5 }),
    /** Jobs one worker (process) runs at once. */
    concurrency: Type.Integer({ minimum: 1, default: 4 }),
    /**
     * Per-job timeout: the deadline of each attempt. Jobs do not run under the interactive stage
     * budgets (deadline.budgets): every stage may use what is left of it, and work the model
     * runtime sheds is retried until it passes.
     */
    timeout_ms: Type.Integer({ minimum: 1, default: 120000 }),
    /** Texts per model call in an embed job: a big job goes through the model queue in pieces. */
    embed_chunk_texts: Type.Integer({ minimum: 1, default: 64 }),
    /** Attempts for failures marked retryable (1 = no retry). */
    attempts: Type.Integer({ minimum: 1, default: 3 }),
    /** First retry delay; doubles on each further attempt. */
    backoff_ms: Type.Integer({ minimum: 0, default: 1000 }),
    /** How long finished jobs and their results are kept. */
    result_ttl_s: Type.Integer({ minimum: 1, default: 86400 }),
    /** Redis key prefix of the deployment: BullMQ queues, index versions, feedback and its request ledger (one per deployment). */
    prefix: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', default: 'pronto' }),
    /**
     * A worker's lock on a running job (renewed every half of it); a worker that dies loses it
     * after this long. A job of a killed worker runs again within lock_ms + stalled_interval_ms.
     */
    lock_ms: Type.Integer({ minimum: 100, default: 10000 }),
    /** How often workers look for jobs whose worker died (stalled) and requeue them. */
    stalled_interval_ms: Type.Integer({ minimum: 100, default: 5000 }),
    callbacks: Type.Object(
      {
        /** Secret for the HMAC-SHA256 signature; set it in production (PRONTO_CALLBACK_SECRET). */
        secret: Type.String({ default: 'change-me' }),
        attempts: Type.Integer({ minimum: 1, default: 5 }),
        /** First redelivery delay after a non-2xx answer; doubles on each further attempt. */
        backoff_ms: Type.Integer({ minimum: 0, default: 1000 }),
        timeout_ms: Type.Integer({ minimum: 1, default: 5000 }),
        /**
         * How long a delivered callback's record is retried while Redis is unreachable before the
         * delivery counts as failed (and is sent again). A rerun of a delivery whose send has no
         * recorded outcome waits up to timeout_ms + this for that record before sending again.
         */
        record_retry_ms: Type.Integer({ minimum: 0, default: 10000 }),
        /** Allow callbacks to loopback, link-local and private addresses (tests, trusted networks). */
        allow_private: Type.Boolean({ default: false }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);

export type JobsConfig = Static<typeof JobsSchema>;
