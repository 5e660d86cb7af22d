// Job queue benchmark: submit latency and throughput at N connections (autocannon against
// POST /v1/jobs), and jobs/s end to end (submit to finished) with an in-process worker and a
// no-op handler, so the figures are the queue's own cost, not a model's.
//
//   node --import tsx bench/jobs.ts [--backend redis|memory|both] [--connections 64] [--duration 10] [--worker-concurrency 32]
//
// Not part of the test suite. Prints one JSON line per backend.
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { createJobQueue } from '../src/jobs/queue.js';
import type { JobHandler } from '../src/jobs/types.js';
import { createMetrics } from '../src/observability/metrics.js';
import { buildJobsApp } from '../test/jobs/support/app.js';
import { deleteKeys, testConfig, type Backend } from '../test/jobs/support/queues.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'both' },
    connections: { type: 'string', default: '64' },
    duration: { type: 'string', default: '10' },
    'worker-concurrency': { type: 'string', default: '32' },
  },
});
const connections = Number(values.connections);
const duration = Number(values.duration);
const backends: Backend[] = values.backend === 'both' ? ['memory', 'redis'] : [values.backend as Backend];

async function run(backend: Backend) {
  const config = testConfig(backend, { max_queue_depth: 10_000_000, concurrency: Number(values['worker-concurrency']), result_ttl_s: 600 });
  const metrics = createMetrics({ defaultMetrics: false });
  let finished = 0;
  let lastFinishedAt = 0;
  const noop: JobHandler = async (input) => {
    finished++;
    lastFinishedAt = performance.now();
    return { echo: input };
  };
  const jobs = createJobQueue(config, {
    metrics,
    logger: pino({ level: 'silent' }),
    handlers: { infer: noop, chat: noop, embed: noop, ingest: noop, flow: noop },
  });
  await jobs.startWorker();
  const app = await buildJobsApp(config, jobs);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const startedAt = performance.now();
    const result = await autocannon({
      url: `${url}/v1/jobs`,
      method: 'POST',
      connections,
      duration,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'embed', input: { texts: ['hello world', 'a second text'] } }),
    });
    const submitted = result['2xx'];
    // Jobs/s: every accepted job finished, over the time from the first submit to the last finish.
    const drainDeadline = performance.now() + 120_000;
    while (finished < submitted && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 50));
    const seconds = (lastFinishedAt - startedAt) / 1000;
    return {
      backend,
      connections,
      duration_s: duration,
      worker_concurrency: config.jobs.concurrency,
      submit_rps: Math.round(result.requests.average),
      submit_latency_ms: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      accepted: submitted,
      errors: result.errors + result.non2xx,
      finished,
      jobs_per_s: Math.round(finished / seconds),
    };
  } finally {
    await app.close();
    await jobs.close();
    if (backend === 'redis') await deleteKeys(config.jobs.prefix);
  }
}

for (const backend of backends) console.log(JSON.stringify(await run(backend)));
