import { MicroBatcher, type BatchObserver } from '../core/batcher.js';
import { AdmissionRejected, admit } from '../core/limiter.js';
import { ProntoError } from '../core/errors.js';
import type { BatchingConfig } from '../config/models.js';
import type { CallOptions } from './types.js';

/**
 * The `instances` micro-batchers of one model behind admission control. A request's items go to
 * the instance with the least queued work; admission refuses at once (queue_full / overloaded)
 * rather than queue items that would miss the request's deadline.
 */
export class BatchedPool<I, O> {
  private batchers: Array<MicroBatcher<I, O>> = [];

  constructor(
    readonly name: string,
    private readonly batching: BatchingConfig,
    private readonly observer: BatchObserver & { rejected?(error: AdmissionRejected): void },
    private readonly tokens?: (input: I) => number,
  ) {}

  /**
   * Attaches one batcher per loaded backend instance (called by start()), teaching each the
   * batch timings measured during warmup so admission has a cost model from the first request.
   */
  attach(
    runners: Array<(inputs: I[], signal: AbortSignal) => Promise<O[]>>,
    warmupTimings: Array<{ inputs: I[]; ms: number }> = [],
    blocksEventLoop = false,
  ): void {
    const b = this.batching;
    this.batchers = runners.map(
      (run) =>
        new MicroBatcher<I, O>({
          maxBatchSize: b.max_batch_size,
          maxWaitMs: b.max_wait_ms,
          maxBatchTokens: b.max_batch_tokens,
          maxConcurrentBatches: b.max_concurrent_batches,
          queueTimeoutMs: b.queue_timeout_ms,
          bulkQueueTimeoutMs: b.bulk_queue_timeout_ms,
          executionTimeoutMs: b.execution_timeout_ms,
          tokens: this.tokens,
          blocksEventLoop,
          run,
          observer: this.observer,
        }),
    );
    for (const batcher of this.batchers) for (const t of warmupTimings) batcher.observeCost(t.inputs, t.ms);
  }

  submit(inputs: I[], options: CallOptions): Promise<O[]> {
    if (this.batchers.length === 0) return Promise.reject(new ProntoError('not_ready', `Model ${this.name} is not loaded yet`));
    const batcher = this.leastLoaded();
    const priority = options.priority ?? 'interactive';
    try {
      admit({
        // Interactive work is bounded by what it waits behind; bulk work by everything queued.
        queued: batcher.queuedAhead(priority),
        adding: inputs.length,
        maxQueue: this.batching.max_queue_items,
        // An idle model is never refused on its estimate: the estimate may be stale or skewed,
        // and only a batch that runs can correct it.
        estimate: batcher.idle ? undefined : batcher.estimate(inputs.length, batcher.units(inputs), priority),
        deadlineAt: options.deadlineAt,
        // Items are dropped after their queue timeout anyway: admit only work that can start by then.
        maxWaitMs: priority === 'bulk' ? this.batching.bulk_queue_timeout_ms : this.batching.queue_timeout_ms,
      });
    } catch (err) {
      if (err instanceof AdmissionRejected) this.observer.rejected?.(err);
      return Promise.reject(err);
    }
    return batcher.submit(inputs, { signal: options.signal, deadlineAt: options.deadlineAt, priority, tag: options.trace });
  }

  /**
   * The least time `items` inputs of `units` cost units take on this model, idle and spread over
   * all its instances; undefined until a batch was timed.
   */
  runMs(items: number, units: number): number | undefined {
    const fastest = Math.min(...this.batchers.map((b) => b.runMs(items, units) ?? Infinity));
    return Number.isFinite(fastest) ? fastest / this.batchers.length : undefined;
  }

  close(): void {
    for (const batcher of this.batchers) batcher.close();
  }

  private leastLoaded(): MicroBatcher<I, O> {
    let best = this.batchers[0];
    for (const batcher of this.batchers) {
      if (batcher.queued + batcher.activeBatches < best.queued + best.activeBatches) best = batcher;
    }
    return best;
  }
}
