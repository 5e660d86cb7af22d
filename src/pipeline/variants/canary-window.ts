import type { CanaryConfig } from '../../config/variants.js';
import { LATENCY_BUCKETS } from '../../observability/metrics.js';
import { quantile } from '../../observability/stats.js';

/** Why a canary was taken out of rotation, with the figure that passed its limit. */
export interface CanaryVerdict {
  reason: 'error_ratio' | 'p95';
  value: number;
  limit: number;
  requests: number;
}

interface SecondBucket {
  requests: number;
  errors: number;
  /** Requests per latency bucket (LATENCY_BUCKETS, then +Inf). */
  latency: number[];
}

/**
 * A canary's last `window_s` seconds: one bucket per second in a ring, and running totals (a
 * second's counts are added as they come and taken away when its bucket is reused or falls out of
 * the window), so the verdict after every request costs one pass over the latency buckets, not
 * over the window. p95 is interpolated in the buckets as Prometheus' histogram_quantile does.
 */
export class CanaryWindow {
  private readonly buckets: SecondBucket[];
  private readonly totals: SecondBucket;
  private newestSecond = -Infinity;

  constructor(private readonly limits: CanaryConfig) {
    this.buckets = Array.from({ length: limits.window_s }, emptyBucket);
    this.totals = emptyBucket();
  }

  /** Adds one finished request; `nowMs` is the wall clock (epoch ms). */
  record(failed: boolean, seconds: number, nowMs: number): void {
    const bucket = this.advance(Math.floor(nowMs / 1000));
    const index = latencyIndex(seconds);
    for (const target of [bucket, this.totals]) {
      target.requests += 1;
      if (failed) target.errors += 1;
      target.latency[index] += 1;
    }
  }

  /** The limit the window passes now, if any (none before it holds `min_requests`). */
  verdict(nowMs: number): CanaryVerdict | undefined {
    this.advance(Math.floor(nowMs / 1000));
    const { requests, errors, latency } = this.totals;
    if (requests < this.limits.min_requests) return undefined;
    const ratio = errors / requests;
    if (ratio > this.limits.max_error_ratio) return { reason: 'error_ratio', value: ratio, limit: this.limits.max_error_ratio, requests };
    let cumulative = 0;
    const p95 = quantile(
      latency.map((count, i): [number, number] => [LATENCY_BUCKETS[i] ?? Infinity, (cumulative += count)]),
      0.95,
    );
    if (p95 !== null && p95 > this.limits.max_p95_ms) return { reason: 'p95', value: p95, limit: this.limits.max_p95_ms, requests };
    return undefined;
  }

  /** Moves the window to `second`, emptying the seconds that left it; returns that second's bucket. */
  private advance(second: number): SecondBucket {
    const size = this.buckets.length;
    if (second > this.newestSecond) {
      const from = Math.max(this.newestSecond + 1, second - size + 1);
      for (let s = from; s <= second; s++) this.clear(this.buckets[s % size]);
      this.newestSecond = second;
    }
    // A clock step back lands in the newest bucket rather than in one that was already cleared.
    return this.buckets[Math.min(second, this.newestSecond) % size];
  }

  private clear(bucket: SecondBucket): void {
    this.totals.requests -= bucket.requests;
    this.totals.errors -= bucket.errors;
    bucket.latency.forEach((count, i) => (this.totals.latency[i] -= count));
    Object.assign(bucket, emptyBucket());
  }
}

function emptyBucket(): SecondBucket {
  return { requests: 0, errors: 0, latency: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0) };
}

function latencyIndex(seconds: number): number {
  const index = LATENCY_BUCKETS.findIndex((le) => seconds <= le);
  return index === -1 ? LATENCY_BUCKETS.length : index;
}
