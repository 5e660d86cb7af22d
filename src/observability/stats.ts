import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Registry } from 'prom-client';

/**
 * Recent statistics for the dashboard: once a second the metrics registry is read and the change
 * since the last read becomes one point of a ring buffer (the last `seconds` of them). A point
 * holds per-second rates and percentiles interpolated from the histogram buckets, the way
 * Prometheus' histogram_quantile does, so the dashboard and Grafana agree. Reading the registry
 * means nothing on the request path records twice.
 */

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface StatsPoint {
  /** Epoch ms at the end of the second. */
  t: number;
  /** How many seconds it sums: 1 for a point; for the window, up to its length (less while the history is shorter). */
  seconds: number;
  routes: Record<string, Percentiles & { rps: number; errors: number }>;
  stages: Record<string, Percentiles>;
  ttft: Percentiles;
  inter_token: Percentiles;
  models: Record<string, { batches: number; batch_size_mean: number | null; batch_wait_p95: number | null; queue_depth: number }>;
  rejections: Record<string, number>;
  cache: { lookups: number; hit_ratio: number | null };
  degradations: Record<string, number>;
  jobs: { depth: Record<string, number>; outcomes: Record<string, number> };
  /** Present once requests carry a `variant` label (A/B and canary routing): the variants compared. */
  variants?: Record<string, VariantStats>;
}

export interface VariantStats extends Percentiles {
  rps: number;
  errors: number;
  /** Stage fallbacks its requests took. */
  degradations: number;
  /** Ratings of its answers received, and their mean. */
  feedback: number;
  mean_rating: number | null;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

type Samples = Map<string, Sample>;
/** Histogram name -> its bucket bounds, ascending. */
type Layouts = Map<string, number[]>;

export interface StatsRecorder {
  /** Points newer than `since` (epoch ms), oldest first. */
  points(since?: number): StatsPoint[];
  /** One point summarising the last `windowSeconds` (for the stage-vs-budget view). */
  window(): StatsPoint;
  readonly windowSeconds: number;
  /** Takes a reading now (the timer does this every second). */
  tick(): Promise<void>;
  stop(): void;
}

export function createStatsRecorder(
  registry: Registry,
  options: { seconds?: number; windowSeconds?: number; intervalMs?: number } = {},
): StatsRecorder {
  const windowSeconds = options.windowSeconds ?? 60;
  const capacity = Math.max(options.seconds ?? 300, windowSeconds);
  const ring: StatsPoint[] = [];
  // The raw change of each second is kept only while it is in the window: it is taken away from
  // the window's sum when it leaves. Kept for the whole ring (every sample of every series that
  // moved, each second), it held 32 MB of a replica's heap in the soak; 300 points of 7 routes
  // took 28 MB with the raw changes and 7 MB without.
  const inWindow: Samples[] = [];
  let gauges: Samples = new Map();
  let previous: Samples | undefined;
  const layouts: Layouts = new Map();
  let reading: Promise<void> | undefined;
  // The window's sum is kept as the ring moves (add the newest second, take away the one that
  // left), so a /stats request summarises one map instead of adding up sixty.
  const windowSum: Samples = new Map();
  let windowPoint: StatsPoint | undefined;

  /**
   * One reading, in several turns of the event loop (the read, the difference, the point, the
   * window), none long enough to keep a request waiting long. A /stats request served between
   * them sees the last second's state: the ring and the window change together, in the last turn.
   */
  async function tick(): Promise<void> {
    const current = await read(registry);
    const before = previous;
    previous = current;
    await nextTurn();
    learnLayouts(current, layouts);
    if (!before) return;
    const change = diff(before, current);
    await nextTurn();
    const point = summarise(Date.now(), change.delta, change.gauges, layouts);
    await nextTurn();
    gauges = change.gauges;
    ring.push(point);
    if (ring.length > capacity) ring.shift();
    addInto(windowSum, change.delta, 1);
    inWindow.push(change.delta);
    if (inWindow.length > windowSeconds) addInto(windowSum, inWindow.shift()!, -1);
    windowPoint = undefined;
  }
  const timer = setInterval(() => {
    reading ??= tick().finally(() => (reading = undefined));
  }, options.intervalMs ?? 1000);
  timer.unref();

  return {
    points: (since = 0) => ring.filter((point) => point.t > since),
    window() {
      windowPoint ??= summarise(Date.now(), windowSum, gauges, layouts, Math.max(1, inWindow.length));
      return windowPoint;
    },
    windowSeconds,
    tick,
    stop: () => clearInterval(timer),
  };
}

const GAUGES = new Set(['pronto_model_queue_depth', 'pronto_job_queue_depth', 'pronto_http_in_flight', 'pronto_model_ready']);

/**
 * Every series of pronto's metrics, one metric per turn of the event loop: read at once, a busy
 * registry (2,068 series, bench/stats-tick.ts) held the loop ~12 ms every second, so each
 * request that arrived meanwhile waited for it. A request that ends between two metrics' turns is
 * in one reading and not yet in the other; the next second's difference counts it.
 */
async function read(registry: Registry): Promise<Samples> {
  const samples: Samples = new Map();
  // Only pronto's own metrics: collecting the process metrics (reads of /proc...) every second is wasted work.
  const own = registry
    .getMetricsAsArray()
    .map((metric) => metric.name)
    .filter((name) => name.startsWith('pronto_'));
  for (const name of own) {
    await nextTurn();
    const metric = await registry.getSingleMetric(name)!.get();
    for (const value of metric.values) {
      const name = (value as { metricName?: string }).metricName ?? metric.name;
      const labels = Object.fromEntries(Object.entries(value.labels).map(([k, v]) => [k, String(v)]));
      samples.set(`${name}${JSON.stringify(labels)}`, { name, labels, value: value.value });
    }
  }
  return samples;
}

/** Adds (sign 1) or takes away (sign -1) `delta` from `sum`; a key that falls to zero goes. */
function addInto(sum: Samples, delta: Samples, sign: 1 | -1): void {
  for (const [key, sample] of delta) {
    const held = sum.get(key);
    const value = (held?.value ?? 0) + sign * sample.value;
    // Histogram sums are floats: what is left of a value added and taken away is rounding.
    if (Math.abs(value) < 1e-9) sum.delete(key);
    else if (held) held.value = value; // the sum's own copy: updated in place, no garbage per sample
    else sum.set(key, { ...sample, value });
  }
}

function learnLayouts(samples: Samples, layouts: Layouts): void {
  for (const s of samples.values()) {
    if (!s.name.endsWith('_bucket')) continue;
    const histogram = s.name.slice(0, -'_bucket'.length);
    const bounds = layouts.get(histogram) ?? [];
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    if (!bounds.includes(le)) layouts.set(histogram, [...bounds, le].sort((a, b) => a - b));
  }
}

function diff(before: Samples, after: Samples): { delta: Samples; gauges: Samples } {
  const delta: Samples = new Map();
  const gauges: Samples = new Map();
  for (const [key, sample] of after) {
    if (GAUGES.has(sample.name)) {
      gauges.set(key, sample);
      continue;
    }
    const change = sample.value - (before.get(key)?.value ?? 0);
    if (change > 0) delta.set(key, { ...sample, value: change });
  }
  return { delta, gauges };
}

/** Sums of one metric's samples grouped by one label. */
function sumBy(
  samples: Samples,
  name: string,
  label: string,
  where: (labels: Record<string, string>) => boolean = () => true,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples.values()) {
    if (s.name !== name || !where(s.labels)) continue;
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/**
 * Percentiles of a histogram's bucket deltas, per value of `label` (or all together without one).
 * Buckets that did not change are not in the deltas; they all lie below the first one that did
 * (counts are cumulative), so that bucket's lower bound is its predecessor in `layouts`.
 */
function percentilesBy(samples: Samples, layouts: Layouts, histogram: string, label?: string): Record<string, Percentiles> {
  const buckets = new Map<string, Map<number, number>>();
  for (const s of samples.values()) {
    if (s.name !== `${histogram}_bucket`) continue;
    const key = label ? (s.labels[label] ?? '') : '';
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    const byLe = buckets.get(key) ?? new Map<number, number>();
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
    buckets.set(key, byLe);
  }
  const out: Record<string, Percentiles> = {};
  for (const [key, byLe] of buckets) {
    const sorted = [...byLe].sort((a, b) => a[0] - b[0]);
    const count = sorted.at(-1)?.[1] ?? 0;
    if (count === 0) continue;
    const layout = layouts.get(histogram) ?? [];
    const floor = layout.filter((le) => le < sorted[0][0]).at(-1) ?? 0;
    out[key] = { count, p50: quantile(sorted, 0.5, floor), p95: quantile(sorted, 0.95, floor), p99: quantile(sorted, 0.99, floor) };
  }
  return out;
}

const NO_PERCENTILES: Percentiles = { count: 0, p50: null, p95: null, p99: null };

/**
 * histogram_quantile over cumulative buckets, in milliseconds (linear within a bucket); `floor` is
 * the lower bound of the first bucket.
 */
export function quantile(cumulative: Array<[number, number]>, q: number, floor = 0): number | null {
  const total = cumulative.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lowerLe = floor;
  let lowerCount = 0;
  for (const [le, count] of cumulative) {
    if (count >= rank) {
      if (le === Infinity) return round(lowerLe * 1000);
      const inBucket = count - lowerCount;
      const fraction = inBucket === 0 ? 1 : (rank - lowerCount) / inBucket;
      return round((lowerLe + (le - lowerLe) * fraction) * 1000);
    }
    lowerLe = le;
    lowerCount = count;
  }
  return round(lowerLe * 1000);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function byRoute(delta: Samples, layouts: Layouts, label: 'route' | 'variant', seconds: number): Record<string, Percentiles & { rps: number; errors: number }> {
  const requests = sumBy(delta, 'pronto_http_requests_total', label, (l) => l[label] !== undefined);
  const errors = sumBy(delta, 'pronto_http_requests_total', label, (l) => l[label] !== undefined && l.status >= '500');
  const latency = percentilesBy(delta, layouts, 'pronto_http_request_duration_seconds', label);
  return Object.fromEntries(
    Object.entries(requests).map(([key, n]) => [
      key,
      { ...(latency[key] ?? NO_PERCENTILES), rps: round(n / seconds), errors: errors[key] ?? 0 },
    ]),
  );
}

/** Each variant's traffic (as byRoute), with its degradations and the feedback its answers got. */
function byVariant(delta: Samples, layouts: Layouts, seconds: number): Record<string, VariantStats> {
  const degradations = sumBy(delta, 'pronto_degradations_total', 'variant');
  const feedback = sumBy(delta, 'pronto_feedback_total', 'variant');
  const ratingSum: Record<string, number> = {};
  for (const s of delta.values()) {
    if (s.name === 'pronto_feedback_total') ratingSum[s.labels.variant] = (ratingSum[s.labels.variant] ?? 0) + Number(s.labels.rating) * s.value;
  }
  return Object.fromEntries(
    Object.entries(byRoute(delta, layouts, 'variant', seconds)).map(([variant, traffic]) => [
      variant,
      {
        ...traffic,
        degradations: degradations[variant] ?? 0,
        feedback: feedback[variant] ?? 0,
        mean_rating: feedback[variant] ? round(ratingSum[variant] / feedback[variant]) : null,
      },
    ]),
  );
}

function summarise(t: number, delta: Samples, gauges: Samples, layouts: Layouts, seconds = 1): StatsPoint {
  const batches = sumBy(delta, 'pronto_model_batch_size_count', 'model');
  const items = sumBy(delta, 'pronto_model_batch_size_sum', 'model');
  const waits = percentilesBy(delta, layouts, 'pronto_model_batch_wait_seconds', 'model');
  const depth = sumBy(gauges, 'pronto_model_queue_depth', 'model');
  const models = Object.fromEntries(
    [...new Set([...Object.keys(batches), ...Object.keys(depth)])].map((model) => [
      model,
      {
        batches: batches[model] ?? 0,
        batch_size_mean: batches[model] ? round(items[model] / batches[model]) : null,
        batch_wait_p95: waits[model]?.p95 ?? null,
        queue_depth: depth[model] ?? 0,
      },
    ]),
  );
  const cache = sumBy(delta, 'pronto_cache_requests_total', 'result');
  const lookups = Object.values(cache).reduce((a, b) => a + b, 0);
  const degradations: Record<string, number> = {};
  for (const s of delta.values()) {
    if (s.name === 'pronto_degradations_total')
      degradations[`${s.labels.stage}:${s.labels.reason}`] = (degradations[`${s.labels.stage}:${s.labels.reason}`] ?? 0) + s.value;
  }
  const point: StatsPoint = {
    t,
    seconds,
    routes: byRoute(delta, layouts, 'route', seconds),
    stages: percentilesBy(delta, layouts, 'pronto_stage_duration_seconds', 'stage'),
    ttft: percentilesBy(delta, layouts, 'pronto_time_to_first_token_seconds')[''] ?? NO_PERCENTILES,
    inter_token: percentilesBy(delta, layouts, 'pronto_inter_token_latency_seconds')[''] ?? NO_PERCENTILES,
    models,
    rejections: sumBy(delta, 'pronto_rejections_total', 'reason'),
    cache: { lookups, hit_ratio: lookups ? round((lookups - (cache.miss ?? 0)) / lookups) : null },
    degradations,
    jobs: { depth: sumBy(gauges, 'pronto_job_queue_depth', 'state'), outcomes: sumBy(delta, 'pronto_jobs_total', 'outcome') },
  };
  const variants = byVariant(delta, layouts, seconds);
  if (Object.keys(variants).length > 0) point.variants = variants;
  return point;
}
