// CPU per results-cache hit of POST /v1/infer, in one process (issue 18): the real server built from
// --config (bench/results-cache.yaml: memory tier; bench/results-cache-redis.yaml with REDIS_URL:
// Redis tier), driven through Fastify's inject, so no socket, no client and no kernel time is in
// the figure: only what pronto's own code costs per hit. The process's CPU time (all threads) over
// --hits hits, in --rounds rounds; prints min, p10, p25 and median ms per hit (on a shared machine
// the low quantiles are the least disturbed). --profile FILE writes a V8 CPU profile of the hits.
//
//   node --import tsx bench/cache-hit-cpu.ts [--config bench/results-cache.yaml] [--hits 8000] [--rounds 40] [--profile hits.cpuprofile]
//
// Not part of any test suite. The HTTP figures (sockets, open loop) are `pronto bench infer-repeated`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.js';
import { startServer } from '../src/server/serve.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'bench/results-cache.yaml' },
    hits: { type: 'string', default: '8000' },
    rounds: { type: 'string', default: '40' },
    profile: { type: 'string' },
  },
});
const [hits, rounds] = [Number(values.hits), Number(values.rounds)];
const dataDir = mkdtempSync(join(tmpdir(), 'pronto-cache-hit-'));
const config = loadConfig({ file: values.config, overrides: { data_dir: dataDir, server: { host: '127.0.0.1', port: 0 } } });
const server = await startServer(config, { logger: pino({ level: config.observability.log_level }, pino.destination({ dest: '/dev/null', sync: false })) });
await server.ready;
const ask = () =>
  server.app.server.inject({ method: 'POST', url: '/v1/infer', headers: { 'content-type': 'application/json' }, payload: { text: 'How do deadlines propagate through the pipeline?' } });

const first = await ask();
for (let i = 0; i < 2000; i++) await ask(); // warm: the JIT, the caches
const tier = (await ask()).headers['x-pronto-cache'];
if (tier !== 'memory' && tier !== 'redis') throw new Error(`not served from the results cache: x-pronto-cache ${String(tier)}`);

const session = new Session();
if (values.profile) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const perHit: number[] = [];
for (let r = 0; r < rounds; r++) {
  const before = process.cpuUsage();
  for (let i = 0; i < hits / rounds; i++) await ask();
  const used = process.cpuUsage(before);
  perHit.push((used.user + used.system) / 1000 / (hits / rounds));
}
if (values.profile) writeFileSync(values.profile, JSON.stringify((await session.post('Profiler.stop')).profile));

perHit.sort((a, b) => a - b);
const at = (q: number) => Math.round(perHit[Math.floor(q * (perHit.length - 1))] * 1000) / 1000;
console.log(JSON.stringify({ tier, first: first.headers['x-pronto-cache'], hits, cpu_ms_per_hit: { min: at(0), p10: at(0.1), p25: at(0.25), median: at(0.5) }, load_average: loadavg()[0] }));
await server.close();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
