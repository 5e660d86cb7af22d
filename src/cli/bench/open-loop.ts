import { setTimeout as sleep } from 'node:timers/promises';
import { RawHttpPool } from './raw-http.js';
import type { HttpScenario } from './scenarios.js';
import { outcome, summarize } from './stats.js';

/**
 * Open loop: requests start at a fixed `rate` whatever the server does (no coordinated omission:
 * latency counts from the scheduled start). Admitted and rejected (429/503) requests are
 * summarised apart, since overload handling should answer the rejected ones fast;
 * `client_send_lag` is how late the requests left the client, the client's own share of those
 * latencies (on shared cores, its timers and its busy loop), and `from_send` the admitted
 * latencies counted from the send instead (no coordinated omission either: sends never wait for
 * responses). With a `signal`,
 * the loop stops offering requests when it aborts (e.g. when a load running alongside ends).
 */
export async function openLoop(url: string, scenario: HttpScenario, options: { rate: number; durationS: number; connections: number; signal?: AbortSignal }) {
  const pool = new RawHttpPool(new URL(url), options.connections);
  const admitted: number[] = [];
  const rejected: number[] = [];
  const statuses: Array<number | string> = [];
  /** How late each request left the client (its timer woke late, or the loop was busy): part of its latency. */
  const sendLag: number[] = [];
  /** The admitted requests' latencies counted from their send: without the client's send lag. */
  const fromSend: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const total = Math.round(options.rate * options.durationS);
  const startedAt = performance.now();
  let maxRss = process.memoryUsage().rss;
  for (let n = 0; n < total && !options.signal?.aborted; n++) {
    const scheduled = startedAt + (n * 1000) / options.rate;
    const wait = scheduled - performance.now();
    if (wait > 1) await sleep(wait, undefined, { signal: options.signal }).catch(() => {});
    if (options.signal?.aborted) break;
    // From its schedule, or from its send when that came first (timers wake up to a millisecond early).
    const sentAt = performance.now();
    const from = Math.min(scheduled, sentAt);
    sendLag.push(sentAt - from);
    const call = pool
      .post(scenario.path, JSON.stringify(scenario.body(n)))
      .then((status) => {
        const now = performance.now();
        statuses.push(status);
        if (status === 429 || status === 503) rejected.push(now - from);
        else {
          admitted.push(now - from);
          fromSend.push(now - sentAt);
        }
      })
      .catch((err: Error) => void statuses.push(err.name))
      .finally(() => inFlight.delete(call));
    inFlight.add(call);
    if (n % 256 === 0) maxRss = Math.max(maxRss, process.memoryUsage().rss);
  }
  await Promise.all(inFlight);
  const elapsedS = (performance.now() - startedAt) / 1000;
  pool.close();
  return {
    mode: 'open',
    rate: options.rate,
    duration_s: Math.round(elapsedS * 10) / 10,
    ...outcome(statuses, elapsedS),
    ...summarize(admitted),
    rejected: summarize(rejected),
    client_send_lag: summarize(sendLag),
    from_send: summarize(fromSend),
    bench_client_max_rss_mb: Math.round(maxRss / 1e6),
  };
}
