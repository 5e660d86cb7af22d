/**
 * Request hedging for idempotent remote calls (Dean & Barroso, "The Tail at Scale"): when a call
 * has not answered by the observed p95 latency, a second identical call starts and the first
 * answer wins (the other is aborted). A budget caps the extra load: each call earns `budget`
 * hedge tokens (0.05: at most ~5% extra calls), a hedge spends one. Hand-written: the resilience
 * libraries (cockatiel, opossum) have no hedging policy.
 */
export interface HedgeOptions {
  /** Extra calls allowed per call (0.05 = 5%). */
  budget: number;
  /** Never hedge sooner than this (ms), whatever the p95 says. */
  minDelayMs: number;
  /** Latencies to observe before hedging at all. */
  minSamples: number;
}

const WINDOW = 256;
const MAX_TOKENS = 10;

export class Hedger {
  private readonly latencies: number[] = [];
  private next = 0;
  private tokens = 0;
  private hedged = 0;

  constructor(private readonly options: HedgeOptions) {}

  /** Hedges sent so far. */
  get count(): number {
    return this.hedged;
  }

  /** The delay before hedging: the p95 of recent latencies, or undefined while too few are known. */
  delayMs(): number | undefined {
    if (this.latencies.length < this.options.minSamples) return undefined;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return Math.max(this.options.minDelayMs, sorted[Math.floor(sorted.length * 0.95)]);
  }

  async run<T>(call: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    this.tokens = Math.min(MAX_TOKENS, this.tokens + this.options.budget);
    const delay = this.delayMs();
    const attempts: AbortController[] = [];
    const start = () => {
      const controller = new AbortController();
      const onAbort = () => controller.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      attempts.push(controller);
      const startedAt = performance.now();
      return call(controller.signal).then(
        (value) => ({ value, ms: performance.now() - startedAt }),
      ).finally(() => signal.removeEventListener('abort', onAbort));
    };
    const primary = start();
    let racers = [primary];
    if (delay !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        primary.then(() => false, () => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), delay))),
      ]);
      clearTimeout(timer);
      if (late && this.tokens >= 1 && !signal.aborted) {
        this.tokens -= 1;
        this.hedged++;
        racers = [primary, start()];
      }
    }
    try {
      const winner = await Promise.any(racers);
      this.record(winner.ms);
      return winner.value;
    } catch (err) {
      throw err instanceof AggregateError ? err.errors[0] : err;
    } finally {
      for (const attempt of attempts) attempt.abort(new Error('hedged call no longer needed'));
    }
  }

  private record(ms: number): void {
    if (this.latencies.length < WINDOW) this.latencies.push(ms);
    else this.latencies[this.next] = ms;
    this.next = (this.next + 1) % WINDOW;
  }
}
