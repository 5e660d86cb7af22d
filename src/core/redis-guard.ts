import { ProntoError } from './errors.js';
import { createResilience, type Resilience } from './circuit-breaker.js';

export interface RedisGuardOptions {
  /** A call slower than this counts as failed (its late answer is ignored). */
  timeoutMs: number;
  /** Consecutive failures (errors or timeouts) that open the circuit... */
  failureThreshold: number;
  /** ...which then skips Redis this long before one call tries it again. */
  halfOpenAfterMs: number;
}

/**
 * Calls to a Redis that is an optimisation, never a dependency (the caches, the index versions):
 * a call that errors or outlasts `timeoutMs` yields `undefined`, and after `failureThreshold` of
 * them in a row the circuit (core/circuit-breaker.ts, on cockatiel) skips Redis altogether until
 * a trial call succeeds, so a Redis that is down costs no request a timeout.
 */
export interface RedisGuard {
  run<T>(call: () => Promise<T>): Promise<T | undefined>;
}

const NEVER_ABORTED = new AbortController().signal;

export function createRedisGuard(options: RedisGuardOptions): RedisGuard {
  const resilience: Resilience = createResilience(
    'redis cache tier',
    { failureThreshold: options.failureThreshold, halfOpenAfterMs: options.halfOpenAfterMs, retries: 0, retryInitialDelayMs: 0, retryMaxDelayMs: 0 },
    () => true,
  );
  return {
    run: (call) => resilience.once(() => withTimeout(call(), options.timeoutMs), NEVER_ABORTED).catch(() => undefined),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new ProntoError('store_unavailable', `Redis did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
