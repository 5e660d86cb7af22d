import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { throwIfAborted } from './deadline.js';

/** The longest stretch of CPU work between two yields: what a probe or another request waits at most. */
export const SLICE_MS = 5;

/** Awaited between two small, bounded units of CPU work (a chunk, a document). */
export type Pacer = () => Promise<void>;

/**
 * Time slicing for CPU-bound loops on a request's path (chunking, analysis, vector pooling): each
 * `await pace()` between units of bounded work yields to the event loop once SLICE_MS of work has
 * run since the last yield, then throws if the signal aborted (the deadline passed, the client
 * left). Loops stay linear; the process stays responsive. Hand-written: no library does this small
 * thing with our abort semantics.
 */
export function createPacer(signal?: AbortSignal, sliceMs = SLICE_MS): Pacer {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await yieldToEventLoop();
    throwIfAborted(signal);
    since = performance.now();
  };
}
