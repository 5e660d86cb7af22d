// What the dashboard's statistics cost on the event loop: the tick once a second (read pronto's
// registry, diff it with the last reading, summarise one point), and each GET /stats (the
// one-minute window summed from 60 points, plus the points). Timed over a registry filled like a
// busy server's: every route, stage, model and job label set a mixed workload creates, with fresh
// observations before each tick.
//
//   node --import tsx bench/stats-tick.ts [--ticks 300] [--routes 12]
//
// Not part of the test suite. Prints one JSON line: p50/p95/max in ms of the tick (start to end),
// of the longest the event loop waited for a turn during it, and of the first /stats body after
// it, and the series (bucket rows included) the tick reads.
import { parseArgs } from 'node:util';
import { createMetrics } from '../src/observability/metrics.js';
import { createStatsRecorder } from '../src/observability/stats.js';

const { values } = parseArgs({ options: { ticks: { type: 'string', default: '300' }, routes: { type: 'string', default: '12' } } });
const ticks = Number(values.ticks);
const metrics = createMetrics({ defaultMetrics: false });
const routes = Array.from({ length: Number(values.routes) }, (_, i) => `/v1/route-${i}`);
const stages = ['sanitize', 'features', 'embed', 'retrieve', 'rerank', 'generate', 'postprocess'];
const models = ['use-lite', 'static', 'extractive'];
const seconds = () => Math.random() * 0.2;

/** About a second of traffic at a few hundred requests/s, spread over every label set. */
function traffic(): void {
  for (let i = 0; i < 300; i++) {
    const route = routes[i % routes.length];
    const status = i % 50 === 0 ? '503' : i % 20 === 0 ? '400' : '200';
    metrics.requests.inc({ method: 'POST', route, status });
    metrics.requestDuration.observe({ method: 'POST', route, status }, seconds());
    for (const stage of stages) metrics.stageDuration.observe({ flow: i % 2 ? 'answer' : 'search', stage, outcome: i % 40 === 0 ? 'timeout' : 'ok' }, seconds() / 10);
  }
  for (const model of models) {
    for (let b = 0; b < 20; b++) {
      metrics.batchSize.observe({ model }, 1 + Math.floor(Math.random() * 32));
      metrics.batchWait.observe({ model }, seconds() / 20);
      metrics.inferenceDuration.observe({ model }, seconds() / 20);
      metrics.batchFlushes.inc({ model, reason: b % 2 ? 'full' : 'timeout' });
    }
    metrics.modelQueueDepth.set({ model }, Math.floor(Math.random() * 64));
    metrics.timeToFirstToken.observe({ flow: 'answer', model }, seconds());
    metrics.interTokenLatency.observe({ flow: 'answer', model }, seconds() / 50);
  }
  metrics.cache.inc({ cache: 'embeddings', result: Math.random() < 0.3 ? 'hit' : 'miss' }, 100);
  metrics.degradations.inc({ stage: 'rerank', reason: 'timeout' });
  metrics.rejections.inc({ reason: 'model_queue_full' });
  metrics.jobs.inc({ kind: 'infer', outcome: 'succeeded' }, 5);
  metrics.jobQueueDepth.set({ state: 'waiting' }, 10);
}

/**
 * The longest the event loop went without a turn while `work` ran (what a request arriving then
 * could wait): a probe takes a turn after every other callback and times the gaps between its turns.
 */
async function longestBlock(work: () => Promise<void>): Promise<number> {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const probe = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(probe);
  };
  setImmediate(probe);
  await work();
  running = false;
  probe();
  return longest;
}

const stats = createStatsRecorder(metrics.registry, { intervalMs: 3_600_000 });
const ms: number[] = [];
const blocks: number[] = [];
const body: number[] = [];
for (let i = 0; i <= ticks; i++) {
  traffic();
  const started = performance.now();
  const block = await longestBlock(() => stats.tick());
  if (i === 0) continue; // the first reading has nothing to diff
  ms.push(performance.now() - started);
  blocks.push(block);
  // The first GET /stats after a tick builds the body (later ones in the same second reuse the window).
  const bodyStarted = performance.now();
  JSON.stringify({ window: stats.window(), points: stats.points() });
  body.push(performance.now() - bodyStarted);
}
stats.stop();
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2));
  return { p50: at(0.5), p95: at(0.95), max: at(1) };
};
const series = (await metrics.registry.getMetricsAsJSON()).reduce((n, m) => n + m.values.length, 0);
console.log(JSON.stringify({ ticks, series, tick_ms: summary(ms), tick_longest_block_ms: summary(blocks), stats_body_ms: summary(body) }));
