import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobsConfig } from '../../config/jobs.js';
import { raceAbort } from '../../core/deadline.js';
import { ProntoError, isProntoError } from '../../core/errors.js';
import type { JobQueueDeps } from '../deps.js';
import { isJobId } from '../ids.js';
import { cancelledError, toJobError, type JobRecord } from '../run.js';
import { jobNotFound } from '../submission.js';
import type { StepEvent } from '../../pipeline/types.js';
import type { JobStatus, JobView } from '../types.js';
import { isFinished, jobView } from '../view.js';
import { parseJobError } from './failure.js';

export const JOBS_QUEUE = 'jobs';
export const CALLBACKS_QUEUE = 'callbacks';
/** States of a job that is accepted but not finished: what max_queue_depth bounds. */
const OPEN_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'waiting-children'] as const;
export const QUEUED_STATES = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children']);
const FINISHED_STATES = new Set(['completed', 'failed']);
const DEPTH_REFRESH_MS = 2000;
/** Longest a submit, poll or cancel waits for Redis before answering `upstream_failed`. */
const STORE_TIMEOUT_MS = 3000;

/** What a job cancelled before it started leaves behind (BullMQ has no "cancelled" state). */
export interface Tombstone {
  tenant: string;
  view: JobView;
}

/** A job as the store finds it. `committed`: BullMQ has recorded the outcome. */
export interface FoundJob {
  tenant: string;
  view: JobView;
  job?: Job<JobRecord>;
  committed: boolean;
}

export interface CallbackData {
  jobId: string;
  url: string;
}

/** BullMQ's progress of a job as the processor writes it: a fraction, or a flow job's `{fraction, steps}`. */
function progressOf(progress: unknown): { fraction?: number; steps?: StepEvent[] } {
  if (typeof progress === 'number') return { fraction: progress };
  if (typeof progress !== 'object' || progress === null) return {};
  const { fraction, steps } = progress as { fraction?: unknown; steps?: unknown };
  return { fraction: typeof fraction === 'number' ? fraction : undefined, steps: Array.isArray(steps) ? (steps as StepEvent[]) : undefined };
}

/** The keys pronto keeps next to BullMQ's, under the same prefix. */
function storeKeys(prefix: string) {
  return {
    cancel: (id: string) => `${prefix}:pronto:cancel:${id}`,
    tomb: (id: string) => `${prefix}:pronto:tomb:${id}`,
    /** A callback's delivery record (set once the receiver said 2xx) and its attempt counter. */
    delivered: (id: string) => `${prefix}:pronto:delivered:${id}`,
    deliveryAttempt: (id: string) => `${prefix}:pronto:delivery-attempt:${id}`,
    /** A send of the callback whose outcome is not recorded yet (see callback-processor.ts). */
    deliveryPending: (id: string) => `${prefix}:pronto:delivery-pending:${id}`,
    cancelChannel: `${prefix}:pronto:cancel`,
  };
}

/**
 * The jobs and callbacks queues and pronto's own keys on Redis, as the request path and the
 * workers both read them: a job's view, the open-job count, the callback schedule. Request-path
 * connections fail fast (no offline queue): a command sent during an outage fails at once instead
 * of running after the client was told it failed (a submit that "failed" must not be added later).
 */
export class RedisJobStore {
  readonly prefix: string;
  readonly ttlMs: number;
  readonly keys: ReturnType<typeof storeKeys>;
  readonly queue: Queue<JobRecord>;
  readonly callbacks: Queue<CallbackData>;
  readonly redis: Redis;
  /** Settles once the command connection is up (or failed to come up). */
  readonly connected: Promise<unknown>;
  private readonly depthTimer: NodeJS.Timeout;

  constructor(
    readonly url: string,
    readonly config: JobsConfig,
    private readonly deps: Pick<JobQueueDeps, 'metrics' | 'logger'>,
    readonly redact: (text: string) => string,
  ) {
    this.prefix = config.prefix;
    this.ttlMs = config.result_ttl_s * 1000;
    this.keys = storeKeys(this.prefix);
    const producer = { url, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
    this.queue = new Queue<JobRecord>(JOBS_QUEUE, { connection: producer, prefix: this.prefix });
    this.callbacks = new Queue<CallbackData>(CALLBACKS_QUEUE, { connection: producer, prefix: this.prefix });
    this.redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    this.connected = this.redis.connect().catch(() => undefined);
    for (const emitter of [this.queue, this.callbacks, this.redis]) {
      emitter.on('error', (err: Error) => deps.logger.warn({ err: err.message }, 'job store (Redis) error'));
    }
    this.depthTimer = setInterval(() => void this.refreshDepth().catch(() => undefined), DEPTH_REFRESH_MS);
    this.depthTimer.unref();
  }

  /** Jobs accepted and not finished, and how many of them run. */
  async openJobs(): Promise<{ total: number; running: number }> {
    const counts = await this.queue.getJobCounts(...OPEN_STATES);
    return { total: Object.values(counts).reduce((sum, n) => sum + n, 0), running: counts.active ?? 0 };
  }

  private async refreshDepth(): Promise<void> {
    const { total, running } = await this.openJobs();
    this.deps.metrics.jobQueueDepth.set({ state: 'queued' }, total - running);
    this.deps.metrics.jobQueueDepth.set({ state: 'running' }, running);
  }

  /** The job's view regardless of tenant, or undefined when it is unknown or expired. */
  async loadView(id: string): Promise<FoundJob | undefined> {
    // State before data: a job finishing between the two reads then shows its outcome, never
    // a finished state without its result.
    const [firstState, cancelRequested] = await Promise.all([this.queue.getJobState(id), this.redis.exists(this.keys.cancel(id))]);
    const job = await this.queue.getJob(id);
    if (!job) {
      const tomb = await this.redis.get(this.keys.tomb(id));
      return tomb ? { ...(JSON.parse(tomb) as Tombstone), committed: true } : undefined;
    }
    const state = job.finishedOn !== undefined && !FINISHED_STATES.has(firstState) ? await job.getState() : firstState;
    if (state === 'unknown' || (job.finishedOn !== undefined && Date.now() - job.finishedOn >= this.ttlMs)) return undefined;
    return { tenant: job.data.tenant, view: this.viewOf(job, state, cancelRequested > 0), job, committed: FINISHED_STATES.has(state) };
  }

  /** BullMQ's state of a job as a pronto job view. */
  private viewOf(job: Job<JobRecord>, state: string, cancelRequested: boolean): JobView {
    const error = job.failedReason ? parseJobError(job.failedReason) : undefined;
    let status: JobStatus;
    if (state === 'completed') status = 'succeeded';
    else if (state === 'failed') status = error?.code === 'cancelled' ? 'cancelled' : 'failed';
    else status = state === 'active' ? 'running' : 'queued';
    // A cancel that is still stopping the job already decides the outcome.
    if (cancelRequested && !isFinished(status)) status = 'cancelled';
    const progress = progressOf(job.progress);
    return jobView(job.data, {
      status,
      attempts: job.attemptsStarted,
      result: job.returnvalue,
      error: isFinished(status) ? (error ?? (status === 'cancelled' ? toJobError(cancelledError(), this.redact) : undefined)) : undefined,
      progress: status === 'running' ? progress.fraction : undefined,
      steps: progress.steps,
      startedAt: job.processedOn,
      finishedAt: isFinished(status) ? (job.finishedOn ?? Date.now()) : undefined,
    });
  }

  /** The tenant's job, or `not_found` (unknown, expired, or another tenant's id alike). */
  async find(tenant: string, id: string): Promise<FoundJob> {
    const found = isJobId(id) ? await this.loadView(id) : undefined;
    if (!found || found.tenant !== tenant) throw jobNotFound(id);
    return found;
  }

  /** Queues the callback once per job (the job id dedupes it, even when a rerun asks again). */
  async scheduleCallback(record: JobRecord): Promise<void> {
    if (!record.callbackUrl) return;
    await this.callbacks.add(
      'deliver',
      { jobId: record.id, url: record.callbackUrl },
      {
        jobId: `cb-${record.id}`,
        attempts: this.config.callbacks.attempts,
        backoff: { type: 'exponential', delay: this.config.callbacks.backoff_ms },
        removeOnComplete: { age: this.config.result_ttl_s },
        removeOnFail: { age: this.config.result_ttl_s },
      },
    );
  }

  /** Runs a request-path operation: Redis down or stuck is a clear 502, not a hang or a 500. */
  async guarded<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await raceAbort(this.connected.then(operation), AbortSignal.timeout(STORE_TIMEOUT_MS));
    } catch (err) {
      if (isProntoError(err)) throw err;
      throw new ProntoError('store_unavailable', 'The job store (Redis) is unavailable', {
        cause: err,
        retryAfterS: this.config.retry_after_s,
      });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.depthTimer);
    await Promise.all([this.queue.close(), this.callbacks.close()]);
    this.redis.disconnect();
  }
}
