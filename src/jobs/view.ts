import type { JobRecord } from './run.js';
import type { StepEvent } from '../pipeline/types.js';
import type { JobError, JobStatus, JobView } from './types.js';

export interface JobState {
  status: JobStatus;
  attempts: number;
  result?: unknown;
  error?: JobError;
  progress?: number;
  steps?: StepEvent[];
  /** Epoch milliseconds. */
  startedAt?: number;
  finishedAt?: number;
}

/** The public shape of a job, the same from both backends. */
export function jobView(record: JobRecord, state: JobState): JobView {
  const view: JobView = {
    job_id: record.id,
    kind: record.kind,
    status: state.status,
    priority: record.priority,
    attempts: state.attempts,
    created_at: new Date(record.createdAt).toISOString(),
  };
  if (state.progress !== undefined && state.status === 'running') view.progress = state.progress;
  if (state.steps !== undefined) view.steps = state.steps;
  if (state.startedAt !== undefined) view.started_at = new Date(state.startedAt).toISOString();
  if (state.finishedAt !== undefined) view.finished_at = new Date(state.finishedAt).toISOString();
  if (state.status === 'succeeded') view.result = state.result;
  if (state.error !== undefined && (state.status === 'failed' || state.status === 'cancelled')) view.error = state.error;
  return view;
}

export function isFinished(status: JobStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}
