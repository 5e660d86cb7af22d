import { raceAbort } from './deadline.js';
import { ProntoError } from './errors.js';
import { BatchCostModel } from './cost-model.js';
import { DecayingRate } from './rate.js';

/**
 * A dynamic micro-batcher for one model instance (the TEI/Triton idea, written for Node's event
 * loop). It batches ITEMS, not requests: one `submit` may carry many inputs and they may be split
 * over several batches. A batch runs when a slot is free and one of these holds:
 *  - full: the queue holds `maxBatchSize` items (or `maxBatchTokens` tokens: token_budget);
 *  - timeout: the oldest item has waited `maxWaitMs`;
 *  - idle: after one event-loop turn (setImmediate, so inputs that arrived in the same I/O phase
 *    join) the arrival rate says no further item is expected within the rest of the wait window,
 *    so waiting would only add latency. At one connection this flushes at once; at many
 *    connections the rate is high and the batcher waits (up to maxWaitMs) for a fuller batch.
 * Items whose request aborted, whose deadline passed or that waited longer than their queue
 * timeout are dropped before their batch runs. Nothing here knows about metrics: an observer is told.
 *
 * Two priority classes: `interactive` items (queries) always go ahead of `bulk` items (ingest),
 * which wait behind them with a longer queue timeout of their own, so a bulk load never starves
 * search and search never makes a bulk load fail while it still has time.
 */

export type FlushReason = 'full' | 'token_budget' | 'timeout' | 'idle';
export type DropReason = 'aborted' | 'deadline' | 'queue_timeout';
export type Priority = 'interactive' | 'bulk';

export interface BatchObserver {
  /** `batch` identifies the batch in both events; `tags` are the items' SubmitOptions.tag. */
  batchStarted?(event: { batch: object; size: number; reason: FlushReason; waitsMs: number[]; tags: unknown[] }): void;
  batchFinished?(event: { batch: object; size: number; durationMs: number; error?: unknown }): void;
  dropped?(reason: DropReason, count: number): void;
  queueChanged?(delta: number): void;
}

export interface BatcherOptions<I, O> {
  maxBatchSize: number;
  maxWaitMs: number;
  /** Optional cap on the summed `tokens(input)` of one batch. */
  maxBatchTokens?: number;
  maxConcurrentBatches: number;
  queueTimeoutMs: number;
  /** Queue timeout of bulk items (default: queueTimeoutMs). */
  bulkQueueTimeoutMs?: number;
  executionTimeoutMs: number;
  tokens?: (input: I) => number;
  /** The model computes on this thread (blocking the event loop while a batch runs). */
  blocksEventLoop?: boolean;
  /** Runs one batch; must return one output per input, in order. */
  run: (inputs: I[], signal: AbortSignal) => Promise<O[]>;
  observer?: BatchObserver;
}

export interface SubmitOptions {
  signal: AbortSignal;
  /** Absolute deadline on the performance.now() clock. */
  deadlineAt?: number;
  /** Default interactive. */
  priority?: Priority;
  /** Caller data handed back to the observer with the batch (e.g. the request's trace context). */
  tag?: unknown;
}

interface Group<O> {
  results: O[];
  remaining: number;
  settled: boolean;
  resolve(results: O[]): void;
  reject(err: unknown): void;
  deadlineAt: number;
  enqueuedAt: number;
  /** When its items are dropped as queue_timeout. */
  expiresAt: number;
  priority: Priority;
  tag: unknown;
  detach(): void;
}

interface Item<I, O> {
  group: Group<O>;
  index: number;
  input: I;
  tokens: number;
  /** The item's share of a batch's cost (its tokens, at least 1): what the cost model counts. */
  units: number;
}

/** Over how long the arrival rate is averaged (ms). */
const ARRIVAL_WINDOW_MS = 100;
/** A turn may start a fraction of a millisecond short of max_wait against performance.now(). */
const TIMER_SLACK_MS = 0.25;

export class MicroBatcher<I, O> {
  /** Interactive items first (the first `interactive.count`), then bulk ones; each class FIFO. */
  private queue: Array<Item<I, O>> = [];
  private queuedTokens = 0;
  private queuedUnits = 0;
  private readonly interactive = { count: 0, units: 0 };
  private running = 0;
  private immediate?: NodeJS.Immediate;
  private waitTimer?: NodeJS.Timeout;
  private expiryTimer?: NodeJS.Timeout;
  private readonly arrivals = new DecayingRate(ARRIVAL_WINDOW_MS);
  private readonly cost = new BatchCostModel();
  private readonly inFlight = new Set<{ startedAt: number; units: number }>();
  private closed = false;
  private slotFreedAt = -Infinity;

  constructor(private readonly options: BatcherOptions<I, O>) {}

  /** Items waiting for a batch. */
  get queued(): number {
    return this.queue.length;
  }

  /** Items waiting that a new item of this priority would wait behind. */
  queuedAhead(priority: Priority): number {
    return priority === 'interactive' ? this.interactive.count : this.queue.length;
  }

  get activeBatches(): number {
    return this.running;
  }

  /** Teaches the cost model a batch timing measured elsewhere (warmup runs). */
  observeCost(inputs: I[], ms: number): void {
    this.cost.observe(this.units(inputs), ms);
  }

  /** Cost units of the given inputs (what `estimate` takes). */
  units(inputs: I[]): number {
    return inputs.reduce((sum, input) => sum + this.unitsOf(input), 0);
  }

  /** True when a new item would start at once: nothing queued and a batch slot free. */
  get idle(): boolean {
    return this.queue.length === 0 && this.running < this.options.maxConcurrentBatches;
  }

  /**
   * For `items` more items of `units` cost units: how long until their first batch starts
   * (`waitMs`: the queued work ahead, plus the running batch that must end first when every slot
   * is busy) and until the last ends (`totalMs`). Undefined until a batch cost is known (admission
   * lets everything in). An idle model always has `waitMs` 0.
   */
  estimate(items: number, units: number, priority: Priority = 'interactive'): { waitMs: number; totalMs: number } | undefined {
    const { maxBatchSize, maxConcurrentBatches } = this.options;
    const fit = this.cost.fit();
    if (fit === undefined) return undefined;
    const cost = (batches: number, u: number) => batches * fit.base + u * fit.perUnit;
    const now = performance.now();
    let slotFreeIn = 0;
    if (this.running >= maxConcurrentBatches) {
      slotFreeIn = Infinity;
      for (const batch of this.inFlight) slotFreeIn = Math.min(slotFreeIn, Math.max(0, cost(1, batch.units) - (now - batch.startedAt)));
    }
    const [aheadItems, aheadUnits] = priority === 'interactive' ? [this.interactive.count, this.interactive.units] : [this.queue.length, this.queuedUnits];
    const waitMs = slotFreeIn + cost(Math.ceil(aheadItems / maxBatchSize), aheadUnits) / maxConcurrentBatches;
    return { waitMs, totalMs: waitMs + cost(Math.ceil(items / maxBatchSize), units) };
  }

  /**
   * How long `items` items of `units` cost units take to run once they start, with every batch
   * slot theirs: the least time they can take on this batcher (undefined until a batch cost is
   * known). Unlike `estimate`, it ignores the queue: it tells what cannot fit a deadline even on
   * an idle model.
   */
  runMs(items: number, units: number): number | undefined {
    const { maxBatchSize, maxConcurrentBatches } = this.options;
    const fit = this.cost.fit();
    return fit && (Math.ceil(items / maxBatchSize) * fit.base + units * fit.perUnit) / maxConcurrentBatches;
  }

  submit(inputs: I[], options: SubmitOptions): Promise<O[]> {
    if (this.closed) return Promise.reject(new ProntoError('shutting_down'));
    if (inputs.length === 0) return Promise.resolve([]);
    if (options.signal.aborted) return Promise.reject(options.signal.reason);
    const now = performance.now();
    const priority = options.priority ?? 'interactive';
    const timeoutMs = priority === 'bulk' ? (this.options.bulkQueueTimeoutMs ?? this.options.queueTimeoutMs) : this.options.queueTimeoutMs;
    return new Promise<O[]>((resolve, reject) => {
      const onAbort = () => this.abandon(group, options.signal.reason, 'aborted');
      const group: Group<O> = {
        results: new Array<O>(inputs.length),
        remaining: inputs.length,
        settled: false,
        resolve,
        reject,
        deadlineAt: options.deadlineAt ?? Infinity,
        tag: options.tag,
        enqueuedAt: now,
        expiresAt: now + timeoutMs,
        priority,
        detach: () => options.signal.removeEventListener('abort', onAbort),
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
      const items = inputs.map((input, index) => ({ group, index, input, tokens: this.options.tokens?.(input) ?? 0, units: this.unitsOf(input) }));
      for (const item of items) {
        this.queuedTokens += item.tokens;
        this.queuedUnits += item.units;
        if (priority === 'interactive') this.interactive.units += item.units;
      }
      if (priority === 'interactive') {
        this.queue.splice(this.interactive.count, 0, ...items);
        this.interactive.count += items.length;
      } else {
        for (const item of items) this.queue.push(item);
      }
      this.options.observer?.queueChanged?.(inputs.length);
      this.arrivals.record(inputs.length, now);
      this.armExpiry();
      this.schedule();
    });
  }

  /** Rejects everything queued; running batches finish. */
  close(): void {
    this.closed = true;
    for (const group of new Set(this.queue.map((item) => item.group))) {
      this.abandon(group, new ProntoError('shutting_down'));
    }
    clearImmediate(this.immediate);
    clearTimeout(this.waitTimer);
    clearTimeout(this.expiryTimer);
  }

  private unitsOf(input: I): number {
    return Math.max(1, this.options.tokens?.(input) ?? 1);
  }

  private schedule(): void {
    if (this.running >= this.options.maxConcurrentBatches || this.queue.length === 0) return;
    const reason = this.readyReason(performance.now());
    if (reason === 'full' || reason === 'token_budget' || (reason && !this.options.blocksEventLoop)) {
      this.flush(reason);
      return;
    }
    // Otherwise wait one event-loop turn: requests already waiting in socket buffers are read in
    // the same poll phase and join the batch. For a model that blocks the loop (tfjs on CPU) even
    // a batch past max_wait waits for that turn, or the rest of the phase would wait a whole
    // batch: measured with use-lite at 64 connections, batches held ~6 items instead of ~43.
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.decide();
    });
  }

  /** After one event-loop turn: flush now, or wait for the batch to fill while items are arriving. */
  private decide(): void {
    if (this.running >= this.options.maxConcurrentBatches || this.queue.length === 0) return;
    const now = performance.now();
    const reason = this.readyReason(now);
    if (reason) {
      this.flush(reason);
      return;
    }
    const left = this.options.maxWaitMs - (now - this.waitingSince());
    if (left <= TIMER_SLACK_MS) {
      this.flush('timeout');
    } else if (this.arrivals.perMs(now) * left < 1) {
      this.flush('idle');
    } else if (!this.waitTimer) {
      this.waitTimer = setTimeout(() => {
        this.waitTimer = undefined;
        // The timer marks the end of max_wait. Node times it from the event loop's cached clock,
        // which lags performance.now() by however long the turn that set it ran, so it can fire
        // milliseconds early: decide() would read that as an idle pause, not the timeout it is.
        if (this.running < this.options.maxConcurrentBatches && this.queue.length > 0) this.flush(this.readyReason(performance.now()) ?? 'timeout');
      }, left);
    }
  }

  /**
   * The wait window opens when the first queued item could have run: when it arrived, or when a
   * slot last freed if it arrived while all were busy. Waiting while the model is busy costs
   * nothing, so a queue that built up behind a batch still gets a short window to fill when the
   * slot frees (under closed-loop load this merges the clients into one full batch instead of two
   * alternating half batches).
   */
  private waitingSince(): number {
    return Math.max(this.queue[0].group.enqueuedAt, this.slotFreedAt);
  }

  private readyReason(now: number): FlushReason | undefined {
    const { maxBatchSize, maxBatchTokens, maxWaitMs } = this.options;
    if (this.queue.length >= maxBatchSize) return 'full';
    if (maxBatchTokens !== undefined && this.queuedTokens >= maxBatchTokens) return 'token_budget';
    if (now - this.waitingSince() >= maxWaitMs) return 'timeout';
    return undefined;
  }

  private flush(reason: FlushReason): void {
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    const now = performance.now();
    const batch = this.take(now);
    if (batch.length > 0) void this.execute(batch, reason, now);
    this.schedule();
  }

  /** Removes the next batch from the queue, dropping items that can no longer be useful. */
  private take(now: number): Array<Item<I, O>> {
    const { maxBatchSize, maxBatchTokens } = this.options;
    const batch: Array<Item<I, O>> = [];
    let tokens = 0;
    while (this.queue.length > 0 && batch.length < maxBatchSize) {
      const item = this.queue[0];
      if (maxBatchTokens !== undefined && batch.length > 0 && tokens + item.tokens > maxBatchTokens) break;
      this.queue.shift();
      this.forget(item);
      this.options.observer?.queueChanged?.(-1);
      const { group } = item;
      if (group.settled) continue;
      if (now >= group.deadlineAt) {
        this.abandon(group, new ProntoError('deadline_exceeded'), 'deadline', 1);
      } else if (now >= group.expiresAt) {
        this.abandon(group, queueTimeout(), 'queue_timeout', 1);
      } else {
        batch.push(item);
        tokens += item.tokens;
      }
    }
    return batch;
  }

  private async execute(batch: Array<Item<I, O>>, reason: FlushReason, startedAt: number): Promise<void> {
    this.running++;
    const running = { startedAt, units: batch.reduce((sum, item) => sum + item.units, 0) };
    this.inFlight.add(running);
    const { observer, executionTimeoutMs } = this.options;
    observer?.batchStarted?.({
      batch: running,
      size: batch.length,
      reason,
      waitsMs: batch.map((item) => startedAt - item.group.enqueuedAt),
      tags: batch.map((item) => item.group.tag),
    });
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new ProntoError('upstream_failed', `the model batch ran past its ${executionTimeoutMs} ms execution timeout`)),
      executionTimeoutMs,
    );
    let error: unknown;
    try {
      const outputs = await raceAbort(
        this.options.run(
          batch.map((item) => item.input),
          controller.signal,
        ),
        controller.signal,
      );
      if (outputs.length !== batch.length) {
        throw new ProntoError('upstream_failed', `the model returned ${outputs.length} outputs for ${batch.length} inputs`);
      }
      batch.forEach((item, i) => deliver(item, outputs[i]));
    } catch (err) {
      error = err;
      for (const group of new Set(batch.map((item) => item.group))) this.abandon(group, err);
    } finally {
      clearTimeout(timer);
      const durationMs = performance.now() - startedAt;
      if (error === undefined) this.cost.observe(running.units, durationMs);
      this.inFlight.delete(running);
      this.running--;
      this.slotFreedAt = performance.now();
      observer?.batchFinished?.({ batch: running, size: batch.length, durationMs, error });
      this.schedule();
    }
  }

  /** Settles a group with an error and takes its remaining items out of the queue. */
  private abandon(group: Group<O>, err: unknown, dropReason?: DropReason, alreadyTaken = 0): void {
    if (group.settled) return;
    group.settled = true;
    group.detach();
    const before = this.queue.length;
    this.queue = this.queue.filter((item) => {
      if (item.group !== group) return true;
      this.forget(item);
      return false;
    });
    const removed = before - this.queue.length;
    if (removed > 0) this.options.observer?.queueChanged?.(-removed);
    if (dropReason) this.options.observer?.dropped?.(dropReason, removed + alreadyTaken);
    group.reject(err);
  }

  /** Takes a dequeued item out of the running totals. */
  private forget(item: Item<I, O>): void {
    this.queuedTokens -= item.tokens;
    this.queuedUnits -= item.units;
    if (item.group.priority === 'interactive') {
      this.interactive.count--;
      this.interactive.units -= item.units;
    }
  }

  /** The oldest item of each class: the next to expire in it (each class is FIFO, one timeout). */
  private heads(): Array<Group<O>> {
    const heads: Array<Group<O>> = [];
    if (this.interactive.count > 0) heads.push(this.queue[0].group);
    if (this.queue.length > this.interactive.count) heads.push(this.queue[this.interactive.count].group);
    return heads;
  }

  /** Drops items that outstay their queue timeout even while every slot is busy. */
  private armExpiry(): void {
    if (this.expiryTimer || this.queue.length === 0) return;
    const next = Math.min(...this.heads().map((group) => group.expiresAt));
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = undefined;
        const now = performance.now();
        for (let expired = this.heads().find((g) => now >= g.expiresAt - TIMER_SLACK_MS); expired; expired = this.heads().find((g) => now >= g.expiresAt - TIMER_SLACK_MS)) {
          this.abandon(expired, queueTimeout(), 'queue_timeout');
        }
        this.armExpiry();
      },
      Math.max(0, next - performance.now()),
    );
    this.expiryTimer.unref();
  }
}

function deliver<I, O>(item: Item<I, O>, output: O): void {
  const { group } = item;
  if (group.settled) return;
  group.results[item.index] = output;
  if (--group.remaining === 0) {
    group.settled = true;
    group.detach();
    group.resolve(group.results);
  }
}

function queueTimeout(): ProntoError {
  return new ProntoError('overloaded', 'The item waited in the model queue past its queue timeout', { retryAfterS: 1 });
}
