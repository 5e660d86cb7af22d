import type { RequestContext, StepEvent } from '../pipeline/types.js';

/**
 * The jobs contract: what a client submits, what it polls, and the queue both backends (BullMQ
 * on Redis, in-process) implement with the same semantics.
 */

export const JOB_KINDS = ['infer', 'chat', 'embed', 'ingest', 'flow'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Priority 1 runs first, 10 last (BullMQ's and nice's order); 5 when not given. */
export const DEFAULT_PRIORITY = 5;

export interface JobError {
  code: string;
  message: string;
  field?: string;
}

/** What GET /v1/jobs/:id answers (and what a callback carries). Times are ISO 8601. */
export interface JobView {
  job_id: string;
  kind: JobKind;
  status: JobStatus;
  priority: number;
  /** Attempts started so far (a retry or a requeue after a worker died adds one). */
  attempts: number;
  result?: unknown;
  error?: JobError;
  progress?: number;
  /** A flow job's steps so far, as `step` events (kept once the job is finished). */
  steps?: StepEvent[];
  created_at: string;
  started_at?: string;
  finished_at?: string;
}

export interface SubmitRequest {
  tenant: string;
  kind: JobKind;
  /** Validated by the route; redacted by the queue before it is stored. */
  input: unknown;
  callbackUrl?: string;
  idempotencyKey?: string;
  priority?: number;
}

export interface SubmitResult {
  jobId: string;
  /** False when an idempotency key matched an existing job. */
  created: boolean;
}

export interface JobQueue {
  readonly backend: 'redis' | 'memory';
  /** Accepts a job or throws `queue_full` (429) / `invalid_input` (bad callback URL). */
  submit(request: SubmitRequest): Promise<SubmitResult>;
  /** The job as its tenant sees it; `not_found` for unknown, expired or other tenants' ids. */
  get(tenant: string, jobId: string): Promise<JobView>;
  /** Cancels a queued or running job; a finished job is returned unchanged. */
  cancel(tenant: string, jobId: string): Promise<JobView>;
  /** Runs jobs in this process (`pronto worker`, `pronto serve --role all`, or the in-process queue). */
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

export interface JobRunInfo {
  jobId: string;
  /**
   * Reports progress in [0, 1], shown as `progress` while the job runs, and (flow jobs) the
   * steps so far, shown as `steps`.
   */
  reportProgress(fraction: number, steps?: StepEvent[]): void;
}

/** Runs one kind of job; the result must be JSON (it is stored and sent to callbacks). */
export type JobHandler = (input: unknown, ctx: RequestContext, run: JobRunInfo) => Promise<unknown>;
export type JobHandlers = Record<JobKind, JobHandler>;
