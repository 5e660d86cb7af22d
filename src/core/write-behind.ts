import { deferred } from './deferred.js';

/**
 * Items kept for up to `delayMs` and handed to `write` together: one write (a file append, a Redis
 * pipeline) per batch instead of one per item. Writes run one after another: a batch is taken when
 * the previous write has ended, with everything that arrived meanwhile, so a write never overlaps
 * another. The timer is unref'd (a waiting batch never holds the process open); `flush` writes at
 * once. By hand: MicroBatcher is for model calls (deadlines, priorities, flush when idle), and a
 * timed write-behind buffer is a few lines no library offers on its own.
 */
export class WriteBehind<T> {
  private batch: T[] = [];
  private written = deferred<void>();
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly delayMs: number,
    /** Writes one batch; a rejection fails that batch's `add` promises, not later batches. */
    private readonly write: (items: T[]) => Promise<void>,
  ) {}

  /** Queues an item; settles when the batch holding it is written (an unobserved failure is not reported). */
  add(item: T): Promise<void> {
    this.batch.push(item);
    this.timer ??= setTimeout(() => void this.flush(), this.delayMs).unref();
    return this.written.promise;
  }

  /** The items waiting for their batch's write (not yet handed to `write`). */
  get waiting(): readonly T[] {
    return this.batch;
  }

  /** Writes what waits now; settles when every write so far has ended. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => {
      const items = this.batch;
      if (items.length === 0) return;
      const written = this.written;
      this.batch = [];
      this.written = deferred<void>();
      return this.write(items).then(written.resolve, written.reject);
    });
    return this.writing;
  }
}
