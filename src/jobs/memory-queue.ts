import type { JobsConfig } from '../config/jobs.js';
import { ProntoError } from '../core/errors.js';
import { createRedactor } from '../core/redact.js';
import { deliverWithRetries } from './callbacks/deliver.js';
import { createCallbackSender, type CallbackSender } from './callbacks/sender.js';
import { requireHandlers, type JobQueueConfig, type JobQueueDeps } from './deps.js';
import { isJobId } from './ids.js';
import { cancelledError, isFinalFailure, recordAttempt, retryDelayMs, runAttempt, toJobError, type JobRecord } from './run.js';
import { jobNotFound, prepareJob, queueFull } from './submission.js';
import type { JobHandlers, JobQueue, JobView, SubmitRequest, SubmitResult } from './types.js';
import { isFinished, jobView, type JobState } from './view.js';

interface MemoryJob extends JobState {
  record: JobRecord;
  /** Submission order: FIFO among jobs of the same priority. */
  seq: number;
  cancelRequested: boolean;
  controller?: AbortController;
  retryTimer?: NodeJS.Timeout;
}

type FinalStatus = 'succeeded' | 'failed' | 'cancelled';

/**
 * The in-process queue (no REDIS_URL): the same contract as the BullMQ queue, bounded, in memory.
 * Jobs do not survive a restart. Hand-written because it is small and every in-memory queue
 * library we know lacks either priorities with cancellation or per-job retry state.
 */
export function createMemoryJobQueue(config: JobQueueConfig, deps: JobQueueDeps): JobQueue {
  return new MemoryJobQueue(config, deps);
}

class MemoryJobQueue implements JobQueue {
  readonly backend = 'memory';
  private readonly jobsConfig: JobsConfig;
  private readonly redact: (text: string) => string;
  private readonly jobs = new Map<string, MemoryJob>();
  /** Queued jobs ready to run, ordered by (priority, seq). */
  private readonly waiting: MemoryJob[] = [];
  private readonly sender: CallbackSender;
  private readonly closing = new AbortController();
  private readonly deliveries = new Set<Promise<unknown>>();
  private readonly attempts = new Set<Promise<unknown>>();
  private readonly sweeper: NodeJS.Timeout;
  private stopping = false;
  private handlers: JobHandlers | undefined;
  private seq = 0;
  private open = 0;
  private running = 0;

  constructor(
    private readonly config: JobQueueConfig,
    private readonly deps: JobQueueDeps,
  ) {
    this.jobsConfig = config.jobs;
    this.redact = deps.redact ?? createRedactor(config.pii).redact;
    this.sender = createCallbackSender(this.jobsConfig.callbacks);
    this.sweeper = setInterval(() => this.sweepExpired(), Math.min(this.jobsConfig.result_ttl_s, 30) * 1000);
    this.sweeper.unref();
  }

  async submit(request: SubmitRequest): Promise<SubmitResult> {
    const record = await prepareJob(request, this.jobsConfig, this.redact);
    const existing = this.jobs.get(record.id);
    if (existing && !this.isExpired(existing)) return { jobId: record.id, created: false };
    if (this.open >= this.jobsConfig.max_queue_depth) {
      this.deps.metrics.rejections.inc({ reason: 'queue_full' });
      throw queueFull(this.jobsConfig);
    }
    const job: MemoryJob = { record, seq: this.seq++, status: 'queued', attempts: 0, cancelRequested: false };
    this.jobs.set(record.id, job);
    this.open++;
    this.enqueue(job);
    return { jobId: record.id, created: true };
  }

  async get(tenant: string, jobId: string): Promise<JobView> {
    return this.viewOf(this.find(tenant, jobId));
  }

  /** A running job is aborted (its attempt then finishes it cancelled); a queued one finishes now. */
  async cancel(tenant: string, jobId: string): Promise<JobView> {
    const job = this.find(tenant, jobId);
    if (isFinished(job.status) || job.cancelRequested) return this.viewOf(job);
    job.cancelRequested = true;
    if (job.controller) {
      job.controller.abort(cancelledError());
    } else {
      clearTimeout(job.retryTimer);
      const at = this.waiting.indexOf(job);
      if (at !== -1) this.waiting.splice(at, 1);
      this.finish(job, 'cancelled', { error: toJobError(cancelledError(), this.redact) });
    }
    return this.viewOf(job);
  }

  async startWorker(): Promise<void> {
    this.handlers = requireHandlers(this.deps);
    this.pump();
  }

  async close(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweeper);
    for (const job of this.jobs.values()) clearTimeout(job.retryTimer);
    // Running jobs get the shutdown grace period to finish, as on the Redis queue; then they
    // are stopped (in memory there is no other worker to hand them to).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.attempts]),
      new Promise((resolve) => (timer = setTimeout(resolve, this.config.server.shutdown_grace_ms))),
    ]);
    clearTimeout(timer);
    for (const job of this.jobs.values()) job.controller?.abort(new ProntoError('shutting_down'));
    await Promise.allSettled([...this.attempts]);
    this.closing.abort();
    await Promise.allSettled([...this.deliveries]);
    await this.sender.close();
  }

  private updateDepth(): void {
    this.deps.metrics.jobQueueDepth.set({ state: 'queued' }, this.open - this.running);
    this.deps.metrics.jobQueueDepth.set({ state: 'running' }, this.running);
  }

  private enqueue(job: MemoryJob): void {
    job.status = 'queued';
    const before = (other: MemoryJob) =>
      other.record.priority > job.record.priority || (other.record.priority === job.record.priority && other.seq > job.seq);
    const at = this.waiting.findIndex(before);
    this.waiting.splice(at === -1 ? this.waiting.length : at, 0, job);
    this.pump();
  }

  /** Starts waiting jobs while a worker runs here and concurrency allows. */
  private pump(): void {
    while (this.handlers && !this.stopping && this.running < this.jobsConfig.concurrency && this.waiting.length > 0) {
      this.start(this.waiting.shift()!, this.handlers);
    }
    this.updateDepth();
  }

  /** Runs one attempt of the job; its outcome is settled by `settle`. */
  private start(job: MemoryJob, handlers: JobHandlers): void {
    this.running++;
    if (job.attempts === 0) this.deps.metrics.jobQueued.observe({ kind: job.record.kind }, (Date.now() - job.record.createdAt) / 1000);
    job.status = 'running';
    job.attempts++;
    job.startedAt = Date.now();
    job.progress = undefined;
    job.steps = undefined;
    const controller = new AbortController();
    job.controller = controller;
    const attempt = runAttempt(job.record, {
      handlers,
      logger: this.deps.logger,
      redact: this.redact,
      timeoutMs: this.jobsConfig.timeout_ms,
      signal: controller.signal,
      onProgress: (fraction, steps) => {
        if (job.status !== 'running') return;
        job.progress = fraction;
        if (steps) job.steps = steps;
      },
    })
      .then(
        (result) => this.settle(job, { result }),
        (err: unknown) => this.settle(job, { err }),
      )
      .finally(() => {
        job.controller = undefined;
        this.running--;
        this.attempts.delete(attempt);
        this.pump();
      });
    this.attempts.add(attempt);
  }

  /** An attempt's outcome: cancelled if asked meanwhile, succeeded, failed for good, or retried after a backoff. */
  private settle(job: MemoryJob, outcome: { result: unknown } | { err: unknown }): void {
    if (job.cancelRequested) return this.finish(job, 'cancelled', { error: toJobError(cancelledError(), this.redact) });
    if ('result' in outcome) return this.finish(job, 'succeeded', { result: outcome.result });
    if (isFinalFailure(outcome.err, job.attempts, this.jobsConfig.attempts)) {
      return this.finish(job, 'failed', { error: toJobError(outcome.err, this.redact) });
    }
    recordAttempt(this.deps.metrics, job.record.kind, job.startedAt!, 'retried');
    job.status = 'queued';
    if (this.stopping) return;
    job.retryTimer = setTimeout(
      () => {
        job.retryTimer = undefined;
        this.enqueue(job);
      },
      retryDelayMs(this.jobsConfig.backoff_ms, job.attempts),
    );
  }

  /** Records the final outcome, counts it, and delivers the callback (retried, in process). */
  private finish(job: MemoryJob, status: FinalStatus, outcome: Pick<JobState, 'result' | 'error'>): void {
    Object.assign(job, outcome, { status, finishedAt: Date.now() });
    this.open--;
    if (job.startedAt !== undefined) recordAttempt(this.deps.metrics, job.record.kind, job.startedAt, status);
    else this.deps.metrics.jobs.inc({ kind: job.record.kind, outcome: status });
    this.updateDepth();
    const url = job.record.callbackUrl;
    if (!url) return;
    const delivery = deliverWithRetries(this.sender, url, this.viewOf(job), this.jobsConfig.callbacks, {
      logger: this.deps.logger,
      signal: this.closing.signal,
    }).finally(() => this.deliveries.delete(delivery));
    this.deliveries.add(delivery);
  }

  private isExpired(job: MemoryJob): boolean {
    return job.finishedAt !== undefined && Date.now() - job.finishedAt >= this.jobsConfig.result_ttl_s * 1000;
  }

  private sweepExpired(): void {
    for (const [id, job] of this.jobs) if (this.isExpired(job)) this.jobs.delete(id);
  }

  private find(tenant: string, jobId: string): MemoryJob {
    const job = isJobId(jobId) ? this.jobs.get(jobId) : undefined;
    if (!job || job.record.tenant !== tenant || this.isExpired(job)) throw jobNotFound(jobId);
    return job;
  }

  private viewOf(job: MemoryJob): JobView {
    // A cancel that is still stopping the handler already decides the outcome.
    if (job.cancelRequested && !isFinished(job.status)) {
      return jobView(job.record, { ...job, status: 'cancelled', error: toJobError(cancelledError(), this.redact), finishedAt: Date.now() });
    }
    return jobView(job.record, job);
  }
}
