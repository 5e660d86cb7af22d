import type { Config } from '../config/schema.js';
import { ProntoError } from '../core/errors.js';
import { createRedactor } from '../core/redact.js';
import { deliverWithRetries } from './callbacks/deliver.js';
import { createCallbackSender } from './callbacks/sender.js';
import { requireHandlers, type JobQueueDeps } from './deps.js';
import { isJobId } from './ids.js';
import { cancelledError, isFinalFailure, recordAttempt, retryDelayMs, runAttempt, toJobError, type JobRecord } from './run.js';
import { jobNotFound, prepareJob, queueFull } from './submission.js';
import type { JobHandlers, JobQueue, JobView } from './types.js';
import { isFinished, jobView, type JobState } from './view.js';

interface MemoryJob extends JobState {
  record: JobRecord;
  /** Submission order: FIFO among jobs of the same priority. */
  seq: number;
  cancelRequested: boolean;
  controller?: AbortController;
  retryTimer?: NodeJS.Timeout;
}

/**
 * The in-process queue (no REDIS_URL): the same contract as the BullMQ queue, bounded, in memory.
 * Jobs do not survive a restart. Hand-written because it is small and every in-memory queue
 * library we know lacks either priorities with cancellation or per-job retry state.
 */
export function createMemoryJobQueue(config: Config, deps: JobQueueDeps): JobQueue {
  const jobsConfig = config.jobs;
  const redact = deps.redact ?? createRedactor(config.pii).redact;
  const jobs = new Map<string, MemoryJob>();
  /** Queued jobs ready to run, ordered by (priority, seq). */
  const waiting: MemoryJob[] = [];
  const sender = createCallbackSender(jobsConfig.callbacks);
  const closing = new AbortController();
  const deliveries = new Set<Promise<unknown>>();
  const attempts = new Set<Promise<unknown>>();
  let stopping = false;
  let handlers: JobHandlers | undefined;
  let seq = 0;
  let open = 0;
  let running = 0;

  const sweeper = setInterval(sweepExpired, Math.min(jobsConfig.result_ttl_s, 30) * 1000);
  sweeper.unref();

  function updateDepth(): void {
    deps.metrics.jobQueueDepth.set({ state: 'queued' }, open - running);
    deps.metrics.jobQueueDepth.set({ state: 'running' }, running);
  }

  function enqueue(job: MemoryJob): void {
    job.status = 'queued';
    const before = (other: MemoryJob) =>
      other.record.priority > job.record.priority || (other.record.priority === job.record.priority && other.seq > job.seq);
    const at = waiting.findIndex(before);
    waiting.splice(at === -1 ? waiting.length : at, 0, job);
    pump();
  }

  function pump(): void {
    while (handlers && !stopping && running < jobsConfig.concurrency && waiting.length > 0) {
      start(waiting.shift()!, handlers);
    }
    updateDepth();
  }

  function start(job: MemoryJob, runWith: JobHandlers): void {
    running++;
    if (job.attempts === 0) deps.metrics.jobQueued.observe({ kind: job.record.kind }, (Date.now() - job.record.createdAt) / 1000);
    job.status = 'running';
    job.attempts++;
    job.startedAt = Date.now();
    job.progress = undefined;
    const controller = new AbortController();
    job.controller = controller;
    const attempt = runAttempt(job.record, {
      handlers: runWith,
      logger: deps.logger,
      redact,
      timeoutMs: jobsConfig.timeout_ms,
      signal: controller.signal,
      onProgress: (fraction) => {
        if (job.status === 'running') job.progress = fraction;
      },
    })
      .then(
        (result) => {
          if (job.cancelRequested) finish(job, 'cancelled', { error: toJobError(cancelledError(), redact) });
          else finish(job, 'succeeded', { result });
        },
        (err) => {
          if (job.cancelRequested) return finish(job, 'cancelled', { error: toJobError(cancelledError(), redact) });
          if (isFinalFailure(err, job.attempts, jobsConfig.attempts)) return finish(job, 'failed', { error: toJobError(err, redact) });
          recordAttempt(deps.metrics, job.record.kind, job.startedAt!, 'retried');
          job.status = 'queued';
          if (stopping) return;
          job.retryTimer = setTimeout(
            () => {
              job.retryTimer = undefined;
              enqueue(job);
            },
            retryDelayMs(jobsConfig.backoff_ms, job.attempts),
          );
        },
      )
      .finally(() => {
        job.controller = undefined;
        running--;
        attempts.delete(attempt);
        pump();
      });
    attempts.add(attempt);
  }

  function finish(job: MemoryJob, status: 'succeeded' | 'failed' | 'cancelled', outcome: Pick<JobState, 'result' | 'error'>): void {
    Object.assign(job, outcome, { status, finishedAt: Date.now() });
    open--;
    if (job.startedAt !== undefined) recordAttempt(deps.metrics, job.record.kind, job.startedAt, status);
    else deps.metrics.jobs.inc({ kind: job.record.kind, outcome: status });
    updateDepth();
    const url = job.record.callbackUrl;
    if (url) {
      const delivery = deliverWithRetries(sender, url, viewOf(job), jobsConfig.callbacks, {
        logger: deps.logger,
        signal: closing.signal,
      }).finally(() => deliveries.delete(delivery));
      deliveries.add(delivery);
    }
  }

  function isExpired(job: MemoryJob): boolean {
    return job.finishedAt !== undefined && Date.now() - job.finishedAt >= jobsConfig.result_ttl_s * 1000;
  }

  function sweepExpired(): void {
    for (const [id, job] of jobs) if (isExpired(job)) jobs.delete(id);
  }

  function find(tenant: string, jobId: string): MemoryJob {
    const job = isJobId(jobId) ? jobs.get(jobId) : undefined;
    if (!job || job.record.tenant !== tenant || isExpired(job)) throw jobNotFound(jobId);
    return job;
  }

  function viewOf(job: MemoryJob): JobView {
    // A cancel that is still stopping the handler already decides the outcome.
    if (job.cancelRequested && !isFinished(job.status)) {
      return jobView(job.record, { ...job, status: 'cancelled', error: toJobError(cancelledError(), redact), finishedAt: Date.now() });
    }
    return jobView(job.record, job);
  }

  return {
    backend: 'memory',

    async submit(request) {
      const record = await prepareJob(request, jobsConfig, redact);
      const existing = jobs.get(record.id);
      if (existing && !isExpired(existing)) return { jobId: record.id, created: false };
      if (open >= jobsConfig.max_queue_depth) {
        deps.metrics.rejections.inc({ reason: 'queue_full' });
        throw queueFull(jobsConfig);
      }
      const job: MemoryJob = { record, seq: seq++, status: 'queued', attempts: 0, cancelRequested: false };
      jobs.set(record.id, job);
      open++;
      enqueue(job);
      return { jobId: record.id, created: true };
    },

    async get(tenant, jobId) {
      return viewOf(find(tenant, jobId));
    },

    async cancel(tenant, jobId) {
      const job = find(tenant, jobId);
      if (isFinished(job.status) || job.cancelRequested) return viewOf(job);
      job.cancelRequested = true;
      if (job.controller) {
        job.controller.abort(cancelledError());
      } else {
        clearTimeout(job.retryTimer);
        const at = waiting.indexOf(job);
        if (at !== -1) waiting.splice(at, 1);
        finish(job, 'cancelled', { error: toJobError(cancelledError(), redact) });
      }
      return viewOf(job);
    },

    async startWorker() {
      handlers = requireHandlers(deps);
      pump();
    },

    async close() {
      stopping = true;
      clearInterval(sweeper);
      for (const job of jobs.values()) clearTimeout(job.retryTimer);
      // Running jobs get the shutdown grace period to finish, as on the Redis queue; then they
      // are stopped (in memory there is no other worker to hand them to).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...attempts]),
        new Promise((resolve) => (timer = setTimeout(resolve, config.server.shutdown_grace_ms))),
      ]);
      clearTimeout(timer);
      for (const job of jobs.values()) job.controller?.abort(new ProntoError('shutting_down'));
      await Promise.allSettled([...attempts]);
      closing.abort();
      await Promise.allSettled([...deliveries]);
      await sender.close();
    },
  };
}
