import { DelayedError, Job, Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { raceAbort } from '../core/deadline.js';
import { ProntoError, isProntoError } from '../core/errors.js';
import { createRedactor } from '../core/redact.js';
import { createCallbackSender, deliveryId } from './callbacks/sender.js';
import { requireHandlers, type JobQueueDeps } from './deps.js';
import { isJobId } from './ids.js';
import { cancelledError, isFinalFailure, recordAttempt, runAttempt, toJobError, type JobRecord } from './run.js';
import { jobNotFound, prepareJob, queueFull } from './submission.js';
import type { JobError, JobQueue, JobStatus, JobView } from './types.js';
import { isFinished, jobView } from './view.js';

const JOBS_QUEUE = 'jobs';
const CALLBACKS_QUEUE = 'callbacks';
/** States of a job that is accepted but not finished: what max_queue_depth bounds. */
const OPEN_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'waiting-children'] as const;
const QUEUED_STATES = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children']);
const FINISHED_STATES = new Set(['completed', 'failed']);
/** How long a callback delivery waits for its job's outcome to be committed before looking again. */
const CALLBACK_RECHECK_MS = 250;
const DEPTH_REFRESH_MS = 2000;
/** How long a stopping worker waits for Redis to take its jobs back before it just goes. */
const HAND_BACK_MS = 3000;
/** Longest a submit, poll or cancel waits for Redis before answering `upstream_failed`. */
const STORE_TIMEOUT_MS = 3000;

interface Tombstone {
  tenant: string;
  view: JobView;
}

/**
 * Jobs on BullMQ. BullMQ owns the hard parts: atomic add-if-absent by job id (idempotency),
 * priorities, retries with exponential backoff, locks and stalled-job recovery (a worker killed
 * mid-job loses its lock and another worker reruns the job; only the lock holder can complete
 * it, so it completes once). Around it: a cancel flag plus a pub/sub channel to stop a job
 * running on another process, a tombstone for jobs cancelled before they started (BullMQ has no
 * "cancelled" state), and callbacks as jobs of their own so deliveries survive restarts.
 */
export function createRedisJobQueue(config: Config, deps: JobQueueDeps): JobQueue {
  if (!config.redis_url) throw new Error('createRedisJobQueue needs redis_url');
  const jobsConfig = config.jobs;
  const prefix = jobsConfig.prefix;
  const ttlMs = jobsConfig.result_ttl_s * 1000;
  const redact = deps.redact ?? createRedactor(config.pii).redact;
  // Workers block on Redis and must wait out outages; the request path must fail fast instead.
  const connection = { url: config.redis_url, maxRetriesPerRequest: null };
  const producer = { url: config.redis_url, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
  const queue = new Queue<JobRecord>(JOBS_QUEUE, { connection: producer, prefix });
  const callbacks = new Queue<{ jobId: string; url: string }>(CALLBACKS_QUEUE, { connection: producer, prefix });
  // No offline queue: a command sent during an outage fails at once instead of running after
  // the client was told it failed (a submit that "failed" must not be added later).
  const redis = new Redis(config.redis_url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  const connected = redis.connect().catch(() => undefined);
  for (const emitter of [queue, callbacks, redis]) {
    emitter.on('error', (err: Error) => deps.logger.warn({ err: err.message }, 'job store (Redis) error'));
  }
  const cancelKey = (id: string) => `${prefix}:pronto:cancel:${id}`;
  const tombKey = (id: string) => `${prefix}:pronto:tomb:${id}`;
  /** A callback's delivery record (set once the receiver said 2xx) and its attempt counter. */
  const deliveredKey = (id: string) => `${prefix}:pronto:delivered:${id}`;
  const deliveryAttemptKey = (id: string) => `${prefix}:pronto:delivery-attempt:${id}`;
  const cancelChannel = `${prefix}:pronto:cancel`;
  const closers: Array<() => Promise<unknown>> = [];

  const depthTimer = setInterval(() => void refreshDepth().catch(() => undefined), DEPTH_REFRESH_MS);
  depthTimer.unref();

  /** Jobs accepted and not finished, and how many of them run. */
  async function openJobs(): Promise<{ total: number; running: number }> {
    const counts = await queue.getJobCounts(...OPEN_STATES);
    return { total: Object.values(counts).reduce((sum, n) => sum + n, 0), running: counts.active ?? 0 };
  }

  async function refreshDepth(): Promise<void> {
    const { total, running } = await openJobs();
    deps.metrics.jobQueueDepth.set({ state: 'queued' }, total - running);
    deps.metrics.jobQueueDepth.set({ state: 'running' }, running);
  }

  function isExpired(finishedAt: number | undefined): boolean {
    return finishedAt !== undefined && Date.now() - finishedAt >= ttlMs;
  }

  /**
   * The job's view regardless of tenant, or undefined when it is unknown or expired. `committed`:
   * BullMQ has recorded the outcome (a cancelled job may show `cancelled` a moment before).
   */
  async function loadView(id: string): Promise<{ tenant: string; view: JobView; job?: Job<JobRecord>; committed: boolean } | undefined> {
    // State before data: a job finishing between the two reads then shows its outcome, never
    // a finished state without its result.
    const [firstState, cancelRequested] = await Promise.all([queue.getJobState(id), redis.exists(cancelKey(id))]);
    const job = await queue.getJob(id);
    if (!job) {
      const tomb = await redis.get(tombKey(id));
      return tomb ? { ...(JSON.parse(tomb) as Tombstone), committed: true } : undefined;
    }
    const state = job.finishedOn !== undefined && !FINISHED_STATES.has(firstState) ? await job.getState() : firstState;
    if (state === 'unknown' || isExpired(job.finishedOn)) return undefined;
    const error = job.failedReason ? parseJobError(job.failedReason) : undefined;
    let status: JobStatus;
    if (state === 'completed') status = 'succeeded';
    else if (state === 'failed') status = error?.code === 'cancelled' ? 'cancelled' : 'failed';
    else status = state === 'active' ? 'running' : 'queued';
    // A cancel that is still stopping the job already decides the outcome.
    if (cancelRequested && !isFinished(status)) status = 'cancelled';
    const view = jobView(job.data, {
      status,
      attempts: job.attemptsStarted,
      result: job.returnvalue,
      error: isFinished(status) ? (error ?? (status === 'cancelled' ? toJobError(cancelledError(), redact) : undefined)) : undefined,
      progress: status === 'running' && typeof job.progress === 'number' ? job.progress : undefined,
      startedAt: job.processedOn,
      finishedAt: isFinished(status) ? (job.finishedOn ?? Date.now()) : undefined,
    });
    return { tenant: job.data.tenant, view, job, committed: FINISHED_STATES.has(state) };
  }

  async function find(tenant: string, id: string) {
    const found = isJobId(id) ? await loadView(id) : undefined;
    if (!found || found.tenant !== tenant) throw jobNotFound(id);
    return found;
  }

  /** Queues the callback once per job (the job id dedupes it, even when a rerun asks again). */
  async function scheduleCallback(record: JobRecord): Promise<void> {
    if (!record.callbackUrl) return;
    await callbacks.add(
      'deliver',
      { jobId: record.id, url: record.callbackUrl },
      {
        jobId: `cb-${record.id}`,
        attempts: jobsConfig.callbacks.attempts,
        backoff: { type: 'exponential', delay: jobsConfig.callbacks.backoff_ms },
        removeOnComplete: { age: jobsConfig.result_ttl_s },
        removeOnFail: { age: jobsConfig.result_ttl_s },
      },
    );
  }

  /** Runs a request-path operation: Redis down or stuck is a clear 502, not a hang or a 500. */
  async function guarded<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await raceAbort(connected.then(operation), AbortSignal.timeout(STORE_TIMEOUT_MS));
    } catch (err) {
      if (isProntoError(err)) throw err;
      throw new ProntoError('store_unavailable', 'The job store (Redis) is unavailable', {
        cause: err,
        retryAfterS: jobsConfig.retry_after_s,
      });
    }
  }

  return {
    backend: 'redis',

    submit: (request) =>
      guarded(async () => {
        const record = await prepareJob(request, jobsConfig, redact);
        if (request.idempotencyKey !== undefined) {
          const existing = await loadView(record.id);
          if (existing) return { jobId: record.id, created: false };
          // An expired job still holding the id would swallow the add: clear it first.
          await queue.remove(record.id).catch(() => undefined);
        }
        // Count, then add: concurrent submits can overshoot the bound by how many are in flight.
        if ((await openJobs()).total >= jobsConfig.max_queue_depth) {
          deps.metrics.rejections.inc({ reason: 'queue_full' });
          throw queueFull(jobsConfig);
        }
        await queue.add(record.kind, record, {
          jobId: record.id,
          priority: record.priority,
          attempts: jobsConfig.attempts,
          backoff: { type: 'exponential', delay: jobsConfig.backoff_ms },
          removeOnComplete: { age: jobsConfig.result_ttl_s },
          removeOnFail: { age: jobsConfig.result_ttl_s },
        });
        return { jobId: record.id, created: true };
      }),

    get: (tenant, id) => guarded(async () => (await find(tenant, id)).view),

    cancel: (tenant, id) =>
      guarded(async () => {
        const found = await find(tenant, id);
        if (isFinished(found.view.status) || !found.job) return found.view;
        const job = found.job;
        await redis.set(cancelKey(id), '1', 'PX', ttlMs);
        const removed =
          QUEUED_STATES.has(await job.getState()) &&
          (await job.remove().then(
            () => true,
            () => false,
          ));
        if (!removed) {
          // Running somewhere: tell every worker; the one running it aborts the handler.
          await redis.publish(cancelChannel, id);
          return (await find(tenant, id)).view;
        }
        const view = jobView(job.data, {
          status: 'cancelled',
          attempts: job.attemptsStarted,
          error: toJobError(cancelledError(), redact),
          finishedAt: Date.now(),
        });
        await redis.set(tombKey(id), JSON.stringify({ tenant, view } satisfies Tombstone), 'PX', ttlMs);
        deps.metrics.jobs.inc({ kind: job.data.kind, outcome: 'cancelled' });
        await scheduleCallback(job.data);
        return view;
      }),

    async startWorker() {
      const handlers = requireHandlers(deps);
      await connected;
      const running = new Map<string, AbortController>();
      let handingBack = false;
      // Unlike the request path, a worker waits out a Redis outage: its commands queue until the
      // connection is back, so a finished delivery is recorded rather than lost.
      const store = new Redis(config.redis_url!, { maxRetriesPerRequest: null });
      store.on('error', (err: Error) => deps.logger.warn({ err: err.message }, 'job store (Redis) error'));
      const subscriber = new Redis(config.redis_url!);
      subscriber.on('message', (_channel: string, id: string) => running.get(id)?.abort(cancelledError()));
      await subscriber.subscribe(cancelChannel);
      const sender = createCallbackSender(jobsConfig.callbacks);

      const worker = new Worker<JobRecord>(
        JOBS_QUEUE,
        async (job, token) => {
          const record = job.data;
          const startedAt = Date.now();
          if (job.attemptsStarted <= 1) deps.metrics.jobQueued.observe({ kind: record.kind }, (startedAt - record.createdAt) / 1000);
          const controller = new AbortController();
          running.set(record.id, controller);
          try {
            if (await store.exists(cancelKey(record.id))) throw cancelledError();
            const result = await runAttempt(record, {
              handlers,
              logger: deps.logger,
              redact,
              timeoutMs: jobsConfig.timeout_ms,
              signal: controller.signal,
              onProgress: (fraction) => void job.updateProgress(fraction).catch(() => undefined),
            });
            if (await store.exists(cancelKey(record.id))) throw cancelledError();
            await scheduleCallback(record);
            recordAttempt(deps.metrics, record.kind, startedAt, 'succeeded');
            return result;
          } catch (err) {
            if (handingBack) {
              // Shutting down past the grace period: back to the queue for another worker, now,
              // rather than after the lock runs out; it is not a failed attempt.
              await job.moveToWait(token);
              throw new WaitingError();
            }
            const cancelled = isProntoError(err) && err.code === 'cancelled';
            const final = cancelled || isFinalFailure(err, job.attemptsMade + 1, jobsConfig.attempts);
            recordAttempt(deps.metrics, record.kind, startedAt, cancelled ? 'cancelled' : final ? 'failed' : 'retried');
            const reason = JSON.stringify(toJobError(err, redact));
            if (!final) throw new Error(reason);
            await scheduleCallback(record);
            throw new UnrecoverableError(reason);
          } finally {
            running.delete(record.id);
          }
        },
        {
          connection,
          prefix,
          concurrency: jobsConfig.concurrency,
          lockDuration: jobsConfig.lock_ms,
          stalledInterval: jobsConfig.stalled_interval_ms,
          // A job may lose its worker twice (a crash, then a Redis restart) before BullMQ fails it.
          maxStalledCount: 2,
        },
      );

      const callbackWorker = new Worker<{ jobId: string; url: string }>(
        CALLBACKS_QUEUE,
        async (delivery, token) => {
          const found = await loadView(delivery.data.jobId);
          if (!found) return 'job expired';
          if (!found.committed) {
            // Queued by the worker just before it commits the outcome: look again shortly.
            await delivery.moveToDelayed(Date.now() + CALLBACK_RECHECK_MS, token);
            throw new DelayedError();
          }
          // At most once per outcome and attempt: a delivery recorded as done is never sent again
          // (a rerun after its worker died between sending and completing finds the record), and
          // every send, a rerun's included, carries the same id and the next attempt number.
          const id = deliveryId(found.view);
          if (await store.exists(deliveredKey(id))) return 'delivered before';
          const attempt = await store.incr(deliveryAttemptKey(id));
          await store.pexpire(deliveryAttemptKey(id), ttlMs);
          try {
            await sender.send(delivery.data.url, found.view, { id, attempt });
          } catch (err) {
            if (isProntoError(err) && err.code === 'forbidden') throw new UnrecoverableError(err.message);
            throw err;
          }
          await store.set(deliveredKey(id), String(attempt), 'PX', ttlMs);
          return 'delivered';
        },
        { connection, prefix, concurrency: 8, lockDuration: jobsConfig.lock_ms, stalledInterval: jobsConfig.stalled_interval_ms },
      );
      for (const w of [worker, callbackWorker]) {
        w.on('error', (err) => deps.logger.error({ err }, 'job worker error'));
      }
      worker.on('failed', (job, err) => {
        deps.logger.info({ job_id: job?.id, err: err.message }, 'job attempt failed');
        // BullMQ fails a job itself when it stalls too often (its workers kept dying): the
        // processor never saw that outcome, so call back and count it here.
        if (job && !isOurFailure(err.message)) {
          deps.metrics.jobs.inc({ kind: job.data.kind, outcome: 'failed' });
          void scheduleCallback(job.data).catch((e: Error) => deps.logger.warn({ job_id: job.id, err: e.message }, 'callback not queued'));
        }
      });

      const cleaner = setInterval(
        () => void Promise.all([queue.clean(ttlMs, 1000, 'completed'), queue.clean(ttlMs, 1000, 'failed')]).catch(() => undefined),
        Math.min(ttlMs, 60_000),
      );
      cleaner.unref();
      await Promise.all([worker.waitUntilReady(), callbackWorker.waitUntilReady()]);

      closers.push(async () => {
        clearInterval(cleaner);
        // Let running jobs finish within the grace period; past it, stop them and hand them back
        // to the queue (another worker starts them at once), and stop taking callbacks.
        const graceful = worker.close();
        if (!(await settlesWithin(graceful, config.server.shutdown_grace_ms))) {
          handingBack = true;
          for (const controller of running.values()) controller.abort(new ProntoError('shutting_down'));
          // Should Redis be gone too, the lock runs out and the stalled check requeues them.
          if (!(await settlesWithin(graceful, HAND_BACK_MS))) await worker.close(true);
        }
        if (!(await settlesWithin(callbackWorker.close(), HAND_BACK_MS))) await callbackWorker.close(true);
        subscriber.disconnect();
        store.disconnect();
        await sender.close();
      });
    },

    async close() {
      clearInterval(depthTimer);
      for (const close of closers.splice(0)) await close();
      await Promise.all([queue.close(), callbacks.close()]);
      redis.disconnect();
    },
  };
}

/** Whether `promise` settles within `ms` (it keeps running either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
}

/** Failures are stored as the JSON of their JobError in BullMQ's failedReason (a string). */
function parseJobError(reason: string): JobError {
  return ourFailure(reason) ?? { code: 'internal', message: reason };
}

function ourFailure(reason: string): JobError | undefined {
  try {
    const parsed = JSON.parse(reason) as JobError;
    if (typeof parsed.code === 'string' && typeof parsed.message === 'string') return parsed;
  } catch {
    // Not ours: BullMQ's own reasons (e.g. "job stalled more than allowable limit").
  }
  return undefined;
}

function isOurFailure(reason: string): boolean {
  return ourFailure(reason) !== undefined;
}
