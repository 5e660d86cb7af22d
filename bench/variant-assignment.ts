// What choosing a pipeline variant adds to a request: one server, POST /v1/search (a route variants
// split) in sparse mode over an empty namespace (so the pipeline is little of the time), with no
// variants and with three (two of them weighted, one a canary watched on every response), in
// alternating rounds switched through the variant router's reload, so load on the machine falls on
// both alike. Every request is assigned (hashed against each variant in rotation) as it comes: a
// search names no user, so it is sticky per client address and lands on one variant. The three variants
// run the same pipeline as the base, so the difference is assignment, the header and the canary's
// bookkeeping, not another pipeline.
//
//   node --import tsx bench/variant-assignment.ts [--rounds 10] [--requests 2000]
//
// Not part of the test suite. Prints one JSON line: p50/p95 in ms with variants off and on, and
// the difference of the medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Pool } from 'undici';
import { summarize } from '../src/cli/bench/stats.js';
import { loadConfig } from '../src/config/load.js';
import type { VariantConfig } from '../src/config/variants.js';
import { startServer } from '../src/server/serve.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, requests: { type: 'string', default: '2000' } } });
const rounds = Number(values.rounds);
const perRound = Number(values.requests);

const VARIANTS: VariantConfig[] = [
  { name: 'control', weight: 90 },
  { name: 'beta', weight: 5 },
  { name: 'canary', weight: 5, canary: { max_error_ratio: 0.5, max_p95_ms: 60_000, window_s: 60, min_requests: 20 } },
];

const dataDir = mkdtempSync(join(tmpdir(), 'pronto-bench-variants-'));
const config = loadConfig({
  env: {},
  overrides: {
    data_dir: dataDir,
    server: { host: '127.0.0.1', port: 0, max_event_loop_delay_ms: 0, drain_ms: 0 },
    sample_corpus: { enabled: false },
    models: [
      { name: 'static', role: 'embedder', backend: 'static' },
      { name: 'extractive', role: 'generator', backend: 'extractive' },
    ] as never,
    pipeline: { embedder: 'static', generator: 'extractive', fallback_generator: 'extractive' },
    observability: { log_level: 'warn', request_log: { sample_rate: 0 } },
  },
});
const server = await startServer(config, { logger: pino({ level: 'warn' }), defaultMetrics: false });
const pool = new Pool(server.url, { connections: 1, pipelining: 1 });
const samples = { off: [] as number[], on: [] as number[] };
try {
  await server.ready;
  for (let round = 0; round < rounds * 2; round++) {
    const on = round % 2 === 1;
    server.runtime.variants.reload(on ? VARIANTS : []);
    for (let i = 0; i < perRound; i++) {
      const body = JSON.stringify({ query: 'stage budgets', mode: 'sparse' });
      const started = performance.now();
      const res = await pool.request({ method: 'POST', path: '/v1/search', headers: { 'content-type': 'application/json' }, body });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`POST /v1/search answered ${res.statusCode}`);
      // The first tenth of a round warms the switched path: not counted.
      if (i >= perRound / 10) (on ? samples.on : samples.off).push(performance.now() - started);
    }
  }
} finally {
  await pool.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
const off = summarize(samples.off);
const on = summarize(samples.on);
console.log(JSON.stringify({ route: 'POST /v1/search (sparse, empty namespace)', variants_off_ms: off, variants_on_ms: on, added_p50_ms: Math.round((on.p50 - off.p50) * 1000) / 1000 }));
