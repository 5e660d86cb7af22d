import type { Logger } from 'pino';
import { raceAbort } from '../core/deadline.js';
import { ProntoError, isProntoError, isRetryable } from '../core/errors.js';
import type { Metrics } from '../observability/metrics.js';
import { createRequestContext } from '../pipeline/context.js';
import { redactDeep } from '../core/redact-deep.js';
import type { JobError, JobHandlers, JobKind, JobRunInfo, JobStatus } from './types.js';

/** A job as both backends store it: the input is already redacted. */
export interface JobRecord {
  id: string;
  tenant: string;
  kind: JobKind;
  input: unknown;
  callbackUrl?: string;
  priority: number;
  /** Epoch milliseconds. */
  createdAt: number;
}

export interface AttemptOptions {
  handlers: JobHandlers;
  logger: Logger;
  redact: (text: string) => string;
  timeoutMs: number;
  /** Aborts when the job is cancelled (or its worker shuts down). */
  signal: AbortSignal;
  onProgress: JobRunInfo['reportProgress'];
}

/**
 * Runs one attempt of a job under its own deadline (the per-job timeout) and returns the result,
 * redacted. Whatever the handler does with the signal, the attempt ends when the deadline passes
 * or the job is cancelled.
 */
export async function runAttempt(record: JobRecord, options: AttemptOptions): Promise<unknown> {
  const ctx = createRequestContext({
    logger: options.logger,
    tenant: record.tenant,
    deadlineMs: options.timeoutMs,
    requestId: record.id,
    signal: options.signal,
    // A job's own budget is its deadline: no interactive stage budget cuts it short.
    stageBudgets: {},
  });
  try {
    const handler = options.handlers[record.kind];
    const run: JobRunInfo = {
      jobId: record.id,
      // Steps carry the question's parts: redacted like the result before they are stored.
      reportProgress: (fraction, steps) => options.onProgress(fraction, steps && (redactDeep(steps, options.redact) as typeof steps)),
    };
    const result = await raceAbort(
      Promise.resolve().then(() => handler(record.input, ctx, run)),
      ctx.deadline.signal,
    );
    return redactDeep(result ?? null, options.redact);
  } finally {
    ctx.deadline.dispose();
  }
}

/** The error as the job record and its callback show it: catalogue code, redacted message. */
export function toJobError(err: unknown, redact: (text: string) => string): JobError {
  if (isProntoError(err)) {
    const error: JobError = { code: err.code, message: redact(err.message) };
    if (err.field !== undefined) error.field = err.field;
    return error;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: redact(message) };
}

/** Whether a failed attempt is the job's last: not retryable, cancelled, or out of attempts. */
export function isFinalFailure(err: unknown, attemptsMade: number, maxAttempts: number): boolean {
  return !isRetryable(err) || attemptsMade >= maxAttempts;
}

/** The delay before attempt `attempt + 1`: base, then doubling (BullMQ's `exponential`). */
export function retryDelayMs(baseMs: number, attemptsMade: number): number {
  return baseMs * 2 ** Math.max(0, attemptsMade - 1);
}

export function cancelledError(): ProntoError {
  return new ProntoError('cancelled', 'The job was cancelled');
}

/** Counts a finished attempt: its duration, and the job's outcome when it is final. */
export function recordAttempt(metrics: Metrics, kind: JobKind, startedAt: number, outcome: JobStatus | 'retried'): void {
  metrics.jobDuration.observe({ kind }, (Date.now() - startedAt) / 1000);
  metrics.jobs.inc({ kind, outcome });
}
