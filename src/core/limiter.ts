import { ProntoError } from './errors.js';
import { Ewma } from './rate.js';

/**
 * Admission control and concurrency limits. Admission decides at once, before any work is
 * queued: a request that would overflow the bounded queue gets 429 `queue_full`; one whose
 * estimated wait (queued work × observed cost) exceeds its remaining budget gets 503
 * `overloaded` — both with Retry-After — instead of queuing work that will miss its deadline.
 */

export type RejectionReason = 'queue_full' | 'too_slow';

/** A ProntoError that also says why admission refused (fallback chains report it). */
export class AdmissionRejected extends ProntoError {
  constructor(
    readonly reason: RejectionReason,
    message: string,
    retryAfterS: number,
  ) {
    super(reason === 'queue_full' ? 'queue_full' : 'overloaded', message, { retryAfterS });
  }
}

export interface AdmissionInput {
  /** Work units already queued, and how many this request adds. */
  queued: number;
  adding: number;
  maxQueue: number;
  /** Estimated wait before this request's work starts, and until it ends (ms); undefined while unknown. */
  estimate: { waitMs: number; totalMs: number } | undefined;
  /** The request's deadline (performance.now() clock): the work must end by then. */
  deadlineAt?: number;
  /** How long the work may wait in the queue (queue_timeout_ms): it must start by then. */
  maxWaitMs?: number;
  now?: number;
}

/** Throws AdmissionRejected when the request cannot be served in time; returns otherwise. */
export function admit(input: AdmissionInput): void {
  const { queued, adding, maxQueue, estimate, deadlineAt, maxWaitMs } = input;
  const retryAfterS = Math.max(1, Math.ceil((estimate?.waitMs ?? 1000) / 1000));
  if (queued + adding > maxQueue) {
    throw new AdmissionRejected('queue_full', `The model queue is full (${queued} of ${maxQueue} items waiting)`, retryAfterS);
  }
  if (!estimate) return;
  if (maxWaitMs !== undefined && estimate.waitMs > maxWaitMs) {
    throw new AdmissionRejected('too_slow', `The model queue holds ~${Math.round(estimate.waitMs)} ms of work, more than the ${maxWaitMs} ms queue timeout`, retryAfterS);
  }
  const remainingMs = (deadlineAt ?? Infinity) - (input.now ?? performance.now());
  if (estimate.totalMs > remainingMs) {
    throw new AdmissionRejected(
      'too_slow',
      `The model would answer in ~${Math.round(estimate.totalMs)} ms, more than the ${Math.max(0, Math.round(remainingMs))} ms left`,
      retryAfterS,
    );
  }
}

interface Waiter {
  grant(release: () => void): void;
  fail(err: unknown): void;
}

/**
 * At most `maxConcurrent` holders at once, FIFO waiters, admission on the waiting queue. Used for
 * streaming generation, where one call holds a slot (a context sequence) until its stream ends.
 * Hand-written because it also estimates waits for admission, which p-limit and friends don't.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiters: Waiter[] = [];
  private readonly holdMs = new Ewma(0.2);

  constructor(private readonly options: { maxConcurrent: number; maxQueue: number }) {}

  get waiting(): number {
    return this.waiters.length;
  }

  get running(): number {
    return this.active;
  }

  /** Estimated wait before a new caller gets a slot (ms). */
  estimateMs(): number | undefined {
    const hold = this.holdMs.value;
    if (this.active < this.options.maxConcurrent) return 0;
    if (hold === undefined) return undefined;
    return Math.ceil((this.waiters.length + 1) / this.options.maxConcurrent) * hold;
  }

  /** Resolves with a release function once a slot is free; admission may reject at once. */
  acquire(options: { signal: AbortSignal; deadlineAt?: number; maxWaitMs?: number }): Promise<() => void> {
    if (options.signal.aborted) return Promise.reject(options.signal.reason);
    if (this.active < this.options.maxConcurrent && this.waiters.length === 0) {
      return Promise.resolve(this.grantSlot());
    }
    const waitMs = this.estimateMs();
    admit({
      queued: this.waiters.length,
      adding: 1,
      maxQueue: this.options.maxQueue,
      estimate: waitMs === undefined ? undefined : { waitMs, totalMs: waitMs },
      deadlineAt: options.deadlineAt,
      maxWaitMs: options.maxWaitMs,
    });
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(options.signal.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          options.signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
        fail: reject,
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Rejects every waiter (shutdown). */
  close(err: unknown): void {
    for (const waiter of this.waiters.splice(0)) waiter.fail(err);
  }

  private grantSlot(): () => void {
    this.active++;
    const startedAt = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holdMs.add(performance.now() - startedAt);
      this.active--;
      this.waiters.shift()?.grant(this.grantSlot());
    };
  }
}
