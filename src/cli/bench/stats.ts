/** Latency summaries in milliseconds, rounded for printing. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
  const round = (x: number) => Math.round(x * 100) / 100;
  return { count: sorted.length, p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) };
}

/** Counts by key, e.g. HTTP status. */
export function tally(keys: Array<string | number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = (out[key] ?? 0) + 1;
  return out;
}

/** An HTTP status below 400 succeeded; a client error name (`ECONNRESET`...) did not. */
const httpOk = (status: string | number) => typeof status === 'number' && status < 400;

/** A run's requests, successful requests/s, errors and status tally: whatever `isOk` refuses is an error. */
export function outcome(statuses: Array<string | number>, seconds: number, isOk: (status: string | number) => boolean = httpOk) {
  const ok = statuses.filter(isOk).length;
  return { requests: statuses.length, rps: Math.round((ok / seconds) * 10) / 10, errors: statuses.length - ok, status: tally(statuses) };
}
