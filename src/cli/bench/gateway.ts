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

/**
 * What the gateway (API key auth, the per-key request limit) adds to a request: one server, the
 * same route (`GET /v1/models`, which does no model work, so the front door is most of its cost),
 * with the gateway off (no keys: open, nothing counted) and on (a key, checked and counted), in
 * alternating rounds switched by a config reload so load on the machine falls on both alike. The
 * result is the difference of the medians. `extra` goes into both configs (e.g. variants), so a
 * feature added to every request is measured by the same run.
 */
export async function gatewayOverhead(options: { rounds: number; requestsPerRound: number; extra?: DeepPartial<Config> }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pronto-bench-gateway-'));
  const { key, record } = createKey({ tenant: 'bench', id: 'bench', limits: UNREACHED });
  const base: DeepPartial<Config> = {
    ...options.extra,
    data_dir: dataDir,
    server: { host: '127.0.0.1', port: 0, max_event_loop_delay_ms: 0, drain_ms: 0 },
    sample_corpus: { enabled: false },
    models: [
      { name: 'static', role: 'embedder', backend: 'static' },
      { name: 'extractive', role: 'generator', backend: 'extractive' },
    ] as DeepPartial<Config['models']>,
    pipeline: { embedder: 'static', generator: 'extractive', fallback_generator: 'extractive' },
  };
  const off = loadConfig({ env: {}, overrides: base });
  const on = loadConfig({ env: {}, overrides: { ...base, auth: { keys: [record] } } });
  let gateway = false;
  const server = await startServer(off, { logger: pino({ level: 'warn' }), defaultMetrics: false, reloadConfig: () => (gateway ? on : off) });
  const pool = new Pool(server.url, { connections: 1, pipelining: 1 });
  const samples = { off: [] as number[], on: [] as number[] };
  try {
    await server.ready;
    for (let round = 0; round < options.rounds * 2; round++) {
      gateway = round % 2 === 1;
      if (!server.runtime.reloads.reload('bench')) throw new Error('the bench config did not load');
      const headers = gateway ? { authorization: `Bearer ${key}` } : {};
      for (let i = 0; i < options.requestsPerRound; i++) {
        const started = performance.now();
        const res = await pool.request({ method: 'GET', path: '/v1/models', headers });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`GET /v1/models answered ${res.statusCode}`);
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
  return { route: 'GET /v1/models', gateway_off_ms: off_, gateway_on_ms: on_, added_p50_ms: Math.round((on_.p50 - off_.p50) * 1000) / 1000 };
}
