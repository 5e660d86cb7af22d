import { UnrecoverableError, WaitingError, type Job, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import { isProntoError } from '../../core/errors.js';
import type { JobQueueDeps } from '../deps.js';
import { cancelledError, isFinalFailure, recordAttempt, runAttempt, toJobError, type JobRecord } from '../run.js';
import type { JobHandlers } from '../types.js';
import type { RedisJobStore } from './store.js';

/** What a worker process shares between its processor, its cancel subscriber and its shutdown. */
export interface WorkerState {
  /** The jobs running here, by id, to abort on a cancel or at shutdown. */
  running: Map<string, AbortController>;
  /** Set when shutdown passed its grace period: failing jobs go back to the queue. */
  handingBack: boolean;
  /** A connection that waits out a Redis outage (unlike the request path's). */
  commands: Redis;
}

type ProcessorDeps = Pick<JobQueueDeps, 'metrics' | 'logger'> & { handlers: JobHandlers };

/** One attempt of a job, on BullMQ: runs it unless cancelled, and calls back once it is final. */
export function createJobProcessor(store: RedisJobStore, deps: ProcessorDeps, state: WorkerState): Processor<JobRecord> {
  const cancelRequested = async (id: string) => (await state.commands.exists(store.keys.cancel(id))) > 0;
  return async (job, token) => {
    const record = job.data;
    const startedAt = Date.now();
    if (job.attemptsStarted <= 1) deps.metrics.jobQueued.observe({ kind: record.kind }, (startedAt - record.createdAt) / 1000);
    const controller = new AbortController();
    state.running.set(record.id, controller);
    try {
      if (await cancelRequested(record.id)) throw cancelledError();
      const result = await runAttempt(record, {
        handlers: deps.handlers,
        logger: deps.logger,
        redact: store.redact,
        timeoutMs: store.config.timeout_ms,
        signal: controller.signal,
        // A flow job's steps ride along with the fraction (BullMQ keeps any JSON as progress).
        onProgress: (fraction, steps) => void job.updateProgress(steps ? { fraction, steps } : fraction).catch(() => undefined),
      });
      if (await cancelRequested(record.id)) throw cancelledError();
      await store.scheduleCallback(record);
      recordAttempt(deps.metrics, record.kind, startedAt, 'succeeded');
      return result;
    } catch (err) {
      return await failAttempt(store, deps, state, { job, token, startedAt }, err);
    } finally {
      state.running.delete(record.id);
    }
  };
}

/**
 * A failed attempt: handed back to the queue while shutting down, retried while attempts and the
 * error allow, else final (BullMQ keeps the JobError as failedReason) and called back. Always throws.
 */
async function failAttempt(
  store: RedisJobStore,
  deps: ProcessorDeps,
  state: WorkerState,
  attempt: { job: Job<JobRecord>; token: string | undefined; startedAt: number },
  err: unknown,
): Promise<never> {
  const { job, token, startedAt } = attempt;
  if (state.handingBack) {
    // Shutting down past the grace period: back to the queue for another worker, now,
    // rather than after the lock runs out; it is not a failed attempt.
    await job.moveToWait(token);
    throw new WaitingError();
  }
  const cancelled = isProntoError(err) && err.code === 'cancelled';
  const final = cancelled || isFinalFailure(err, job.attemptsMade + 1, store.config.attempts);
  recordAttempt(deps.metrics, job.data.kind, startedAt, cancelled ? 'cancelled' : final ? 'failed' : 'retried');
  const reason = JSON.stringify(toJobError(err, store.redact));
  if (!final) throw new Error(reason);
  await store.scheduleCallback(job.data);
  throw new UnrecoverableError(reason);
}
