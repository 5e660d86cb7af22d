import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Pool } from 'undici';
import { loadConfig, type DeepPartial } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { createKey } from '../../config/keys.js';
import { startServer } from '../../server/serve.js';
import { summarize } from './stats.js';

/** A limit no run reaches: the check is made and counted, the request is never refused. */
const UNREACHED = { requests_per_s: 1_000_000, burst: 1_000_000_000 };

/** Three variants running the base pipeline (so only assignment differs), one a canary judged on every response. */
const SEARCH = JSON.stringify({ query: 'stage budgets', mode: 'sparse' });

const VARIANTS = [
  { name: 'control', weight: 90 },
  { name: 'beta', weight: 5 },
  { name: 'canary', weight: 5, canary: { max_error_ratio: 0.5, max_p95_ms: 60_000, window_s: 60, min_requests: 20 } },
];

/**
 * What the gateway adds to a request: API key auth, the per-key request limit and variant
 * assignment, together. One server, one route variants split (`POST /v1/search`, sparse, over an
 * empty namespace, so the pipeline is little of the time), with the gateway off (no keys, no
 * variants) and on (a key checked and counted, three variants assigned), in alternating rounds
 * switched by a config reload so load on the machine falls on both alike. The result is the
 * difference of the medians.
 */
export async function gatewayOverhead(options: { rounds: number; requestsPerRound: number }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pronto-bench-gateway-'));
  const { key, record } = createKey({ tenant: 'bench', id: 'bench', limits: UNREACHED });
  const base: DeepPartial<Config> = {
    data_dir: dataDir,
    server: { host: '127.0.0.1', port: 0, max_event_loop_delay_ms: 0, drain_ms: 0 },
    sample_corpus: { enabled: false },
    models: [
      { name: 'static', role: 'embedder', backend: 'static' },
      { name: 'extractive', role: 'generator', backend: 'extractive' },
    ] as DeepPartial<Config['models']>,
    pipeline: { embedder: 'static', generator: 'extractive', fallback_generator: 'extractive' },
    observability: { request_log: { sample_rate: 0 } },
  };
  const off = loadConfig({ env: {}, overrides: base });
  const on = loadConfig({ env: {}, overrides: { ...base, auth: { keys: [record] }, variants: VARIANTS } });
  let gateway = false;
  const server = await startServer(off, { logger: pino({ level: 'warn' }), defaultMetrics: false, reloadConfig: () => (gateway ? on : off) });
  const pool = new Pool(server.url, { connections: 1, pipelining: 1 });
  const samples = { off: [] as number[], on: [] as number[] };
  try {
    await server.ready;
    for (let round = 0; round < options.rounds * 2; round++) {
      gateway = round % 2 === 1;
      if (!server.runtime.reloads.reload('bench')) throw new Error('the bench config did not load');
      const headers = { 'content-type': 'application/json', ...(gateway ? { authorization: `Bearer ${key}` } : {}) };
      for (let i = 0; i < options.requestsPerRound; i++) {
        const started = performance.now();
        const res = await pool.request({ method: 'POST', path: '/v1/search', headers, body: SEARCH });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`POST /v1/search answered ${res.statusCode}`);
        if (gateway && !VARIANTS.some((v) => v.name === res.headers['x-pronto-variant'])) throw new Error('a gateway round was served no variant');
        // The first requests of a round warm the switched path: they are not counted.
        if (i >= options.requestsPerRound / 10) (gateway ? samples.on : samples.off).push(performance.now() - started);
      }
    }
  } finally {
    await pool.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const off_ = summarize(samples.off);
  const on_ = summarize(samples.on);
  return { route: 'POST /v1/search (sparse, empty namespace)', gateway_off_ms: off_, gateway_on_ms: on_, added_p50_ms: Math.round((on_.p50 - off_.p50) * 1000) / 1000 };
}
