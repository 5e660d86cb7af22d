import type { JobError } from '../types.js';

/** Failures are stored as the JSON of their JobError in BullMQ's failedReason (a string). */
export function parseJobError(reason: string): JobError {
  return ourFailure(reason) ?? { code: 'internal', message: reason };
}

/** Whether the failure came from our processor (a JobError), not from BullMQ itself. */
export function isOurFailure(reason: string): boolean {
  return ourFailure(reason) !== undefined;
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
