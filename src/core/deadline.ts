import { ProntoError } from './errors.js';

/**
 * A request's deadline and the one AbortSignal that carries it to every stage, model call and
 * store call. The signal aborts when the deadline passes or when the client goes away (`cancel`);
 * its `reason` is a ProntoError (`deadline_exceeded` or `cancelled`) so whoever sees it can tell
 * the two apart. Stage budgets are child scopes: they abort on their own timer or their parent.
 * A scope (or child deadline) whose budget reaches its parent's end follows the parent, with no
 * timer of its own: two timers for the same instant would let whichever the event loop ran first
 * decide whether a stage overran or the request ended (a flow step read as skipped, not aborted).
 *
 * The signal (its AbortController, its timer, its parent's listener) is made when first asked
 * for: a request that never waits on anything abortable (a results-cache hit) has nothing to
 * abort, and makes none of them. Once made, it is already aborted if the deadline passed, the
 * parent aborted or `cancel` came before.
 */
export class Deadline {
  /** Absolute time (performance.now() clock) at which the deadline passes. */
  readonly at: number;
  private controller?: AbortController;
  private timer?: NodeJS.Timeout;
  private detach?: () => void;
  /** Why it ended before its signal was made (`cancel`). */
  private endedWith?: unknown;
  private disposed = false;

  /** `follows` (see `following`): the parent's end; no timer of its own, it ends when `parent` aborts. */
  constructor(
    budgetMs: number,
    private readonly parent?: AbortSignal,
    private readonly follows?: { at: number },
  ) {
    this.at = follows?.at ?? performance.now() + budgetMs;
  }

  /** A deadline that ends exactly when `parent` does: it aborts with it, and has no timer of its own. */
  static following(parent: { signal: AbortSignal; at: number }): Deadline {
    return new Deadline(0, parent.signal, parent);
  }

  get signal(): AbortSignal {
    return (this.controller ??= this.makeController()).signal;
  }

  remainingMs(): number {
    return Math.max(0, this.at - performance.now());
  }

  /** A deadline for part of this request: ends after `budgetMs` or with this one, whichever is first. */
  child(budgetMs: number): Deadline {
    return budgetMs >= this.remainingMs() ? Deadline.following(this) : new Deadline(budgetMs, this.signal);
  }

  get expired(): boolean {
    return this.signal.aborted;
  }

  /** The client went away: stop all work for this request. */
  cancel(): void {
    if (this.controller) this.abortWith(new ProntoError('cancelled'));
    else this.endedWith ??= new ProntoError('cancelled');
  }

  /** A scope for one stage: aborts after `budgetMs` or when this deadline aborts, whichever is first. */
  scope(budgetMs: number): StageScope {
    return budgetMs >= this.remainingMs() ? new StageScope(0, this.signal, this) : new StageScope(budgetMs, this.signal);
  }

  /** Releases the timer and the parent's listener once the request is done. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.detach?.();
  }

  private makeController(): AbortController {
    const controller = new AbortController();
    const { parent } = this;
    const remaining = this.at - performance.now();
    if (this.endedWith !== undefined) controller.abort(this.endedWith);
    else if (parent?.aborted) controller.abort(parent.reason);
    else if (!this.follows && remaining <= 0) controller.abort(new ProntoError('deadline_exceeded'));
    // Asked for after the request is done (late work): a signal that stays as it is, holding nothing.
    else if (!this.disposed) {
      if (!this.follows) this.timer = setTimeout(() => this.abortWith(new ProntoError('deadline_exceeded')), remaining);
      if (parent) {
        const onParent = () => this.abortWith(parent.reason);
        parent.addEventListener('abort', onParent, { once: true });
        // A disposed deadline must not stay subscribed to a parent that outlives it (a flow's
        // steps on its request, a job's attempts on a worker's signal): one listener each, kept.
        this.detach = () => parent.removeEventListener('abort', onParent);
      }
    }
    return controller;
  }

  private abortWith(reason: unknown): void {
    clearTimeout(this.timer);
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(reason);
  }
}

/** A stage's budget. `overran` tells a budget overrun apart from the whole request aborting. */
export class StageScope {
  readonly signal: AbortSignal;
  readonly at: number;
  private readonly controller = new AbortController();
  private readonly timer?: NodeJS.Timeout;
  private timedOut = false;
  private readonly detach: () => void;

  /** `follows`: the parent's end; no timer of its own, so it can never overrun. */
  constructor(budgetMs: number, parent: AbortSignal, follows?: { at: number }) {
    this.at = follows?.at ?? performance.now() + budgetMs;
    this.signal = this.controller.signal;
    if (!follows) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort(new ProntoError('deadline_exceeded', 'The stage overran its budget'));
      }, Math.max(0, budgetMs));
    }
    const onParent = () => {
      clearTimeout(this.timer);
      this.controller.abort(parent.reason);
    };
    if (parent.aborted) onParent();
    else parent.addEventListener('abort', onParent, { once: true });
    // A finished stage must not stay subscribed to the request: a long stream runs many scopes.
    this.detach = () => parent.removeEventListener('abort', onParent);
  }

  get overran(): boolean {
    return this.timedOut;
  }

  remainingMs(): number {
    return Math.max(0, this.at - performance.now());
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.detach();
  }
}

/** Throws the signal's reason if it has aborted: a cheap check between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new ProntoError('cancelled');
}

/** Rejects with the signal's reason as soon as it aborts, whatever `promise` is doing. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    // Nobody will wait for `promise` now: a rejection of it must not go unhandled, which ends the
    // process (a request reaching a stage after its deadline crashed the server this way).
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** A sleep that ends early (rejecting) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  // The timer is cleared however the sleep ends: a cancelled long sleep (a test fault's stall, a
  // backoff) must hold neither the timer nor the process until it would have ended.
  let timer: NodeJS.Timeout | undefined;
  const slept = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return raceAbort(slept, signal).finally(() => clearTimeout(timer));
}

/**
 * Iterates `source`, rejecting as soon as `signal` aborts even when the source is stuck waiting
 * for its next item (a model that ignores the signal must not hold the request).
 */
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    while (true) {
      const next = await raceAbort(iterator.next(), signal);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    void iterator.return?.();
  }
}
