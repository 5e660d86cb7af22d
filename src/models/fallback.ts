import { AdmissionRejected } from '../core/limiter.js';
import { isAbortError, isProntoError } from '../core/errors.js';
import type { CallOptions, FallbackEvent, GenerationStream, TokenUsage } from './types.js';

/**
 * Why the next model of a chain should serve after `err`, or undefined when no other model can
 * help: the request was aborted or its deadline passed, or the input itself is bad.
 */
export function fallbackReason(err: unknown, signal: AbortSignal): FallbackEvent['reason'] | undefined {
  if (signal.aborted) return undefined;
  if (err instanceof AdmissionRejected) return err.reason === 'too_slow' ? 'too_slow' : 'overloaded';
  if (isProntoError(err)) {
    if (err.status >= 400 && err.status < 500 && err.code !== 'queue_full' && err.code !== 'rate_limited') return undefined;
    if (err.code === 'circuit_open') return 'circuit_open';
    if (['overloaded', 'queue_full', 'rate_limited', 'not_ready'].includes(err.code)) return 'overloaded';
    if (err.code === 'deadline_exceeded') return 'too_slow';
  } else if (isAbortError(err)) {
    return 'too_slow';
  }
  return 'error';
}

/**
 * Runs `call` on the primary; when it fails for a reason the next model of the chain can fix,
 * reports the fallback and runs `next` (which applies its own chain in turn).
 */
export async function withFallback<T>(
  from: string,
  options: CallOptions,
  call: () => Promise<T>,
  next: { name: string; call: () => Promise<T> } | undefined,
  onFallback?: (event: FallbackEvent) => void,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const reason = next && fallbackReason(err, options.signal);
    if (!next || !reason) throw err;
    const event = { from, to: next.name, reason };
    onFallback?.(event);
    options.onFallback?.(event);
    return next.call();
  }
}

/** One generator a fallback loop may stream from, started only when its turn comes. */
export interface StreamAttempt {
  name: string;
  start(): GenerationStream;
}

/**
 * The one generator fallback loop, used by model chains (ServedGenerator) and by the generate
 * stage (the pipeline's generator of last resort): streams the first attempt; when it fails
 * before its first token and `reasonFor` names a reason, the next attempt serves instead
 * (`onFallback` reports it). After the first token a failure propagates: the caller has sent
 * text that another model would not continue.
 */
export function streamWithFallback<R extends string>(
  attempts: StreamAttempt[],
  reasonFor: (err: unknown) => R | undefined,
  onFallback: (event: { from: string; to: string; reason: R }, err: unknown) => void,
): GenerationStream & { served(): string } {
  let usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0 };
  let served = attempts[0].name;
  async function* stream(): AsyncGenerator<string> {
    let produced = 0;
    for (const [i, attempt] of attempts.entries()) {
      served = attempt.name;
      try {
        const source = attempt.start();
        for await (const token of source) {
          produced++;
          yield token;
        }
        usage = source.usage();
        return;
      } catch (err) {
        const next = attempts[i + 1];
        const reason = produced === 0 && next ? reasonFor(err) : undefined;
        if (!next || !reason) throw err;
        onFallback({ from: attempt.name, to: next.name, reason }, err);
      }
    }
  }
  return Object.assign(stream(), { usage: () => usage, served: () => served });
}
