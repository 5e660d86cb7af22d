import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, isBrokenCircuitError, retry } from 'cockatiel';
import { ProntoError } from './errors.js';

/**
 * Resilience for calls to a remote dependency, built on cockatiel (a maintained library for
 * exactly this): a consecutive-failure circuit breaker, and for idempotent calls only, retries
 * with exponential backoff and decorrelated jitter, each attempt going through the breaker.
 * An open circuit fails at once with ProntoError `circuit_open` (the fallback chain's cue).
 */
export interface ResilienceOptions {
  /** Consecutive transient failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one trial call is let through. */
  halfOpenAfterMs: number;
  /** Extra attempts for idempotent calls (0: none). */
  retries: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
}

export interface Resilience {
  /** A call that must not be repeated (a streamed generation): breaker only. */
  once<T>(call: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T>;
  /** An idempotent call (embeddings, rerank): breaker and retries. */
  idempotent<T>(call: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T>;
}

/** `isTransient` says which failures count against the breaker and may be retried. */
export function createResilience(name: string, options: ResilienceOptions, isTransient: (err: unknown) => boolean): Resilience {
  const breaker = circuitBreaker(handleWhen(isTransient), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.failureThreshold),
  });
  const retries = retry(
    handleWhen((err) => isTransient(err) && !isBrokenCircuitError(err)),
    {
      maxAttempts: options.retries,
      backoff: new ExponentialBackoff({ initialDelay: options.retryInitialDelayMs, maxDelay: options.retryMaxDelayMs }),
    },
  );

  async function once<T>(call: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    try {
      return await breaker.execute(() => call(signal));
    } catch (err) {
      if (isBrokenCircuitError(err)) {
        throw new ProntoError('circuit_open', `${name} is failing; its circuit breaker is open`, { retryAfterS: Math.ceil(options.halfOpenAfterMs / 1000) });
      }
      throw err;
    }
  }

  return {
    once,
    async idempotent(call, signal) {
      try {
        return await retries.execute(() => once(call, signal), signal);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw err;
      }
    },
  };
}
