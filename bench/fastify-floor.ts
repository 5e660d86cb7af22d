// The floor under issue 18's cache-hit targets: a bare Fastify server (no pronto code) that answers
// POST /v1/infer with a stored body of the size of a cached answer (2.5 KB), after parsing the JSON
// request as Fastify does. Driven by the same client as pronto (`pronto bench infer-repeated`), its
// percentiles say what the machine gives any Node HTTP server at that rate: a p99 above the target
// here is the host's (scheduler, steal, the client on the same cores), not pronto's.
//
//   node --import tsx bench/fastify-floor.ts [--port 8490]
//   node bin/pronto.js bench infer-repeated --url http://127.0.0.1:8490 --rate 1000 --duration 10
//
// Not part of any test suite.
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8490' } } });
const body = Buffer.from(JSON.stringify({ answer: 'x'.repeat(2400), contexts: [], citations: [], latency_ms: 0.1 }));
const app = Fastify();
// What bench/lib.sh's wait_ready polls, as on pronto.
app.get('/readyz', async () => ({ status: 'ready' }));
app.post('/v1/infer', async (_request, reply) => {
  reply.header('content-type', 'application/json; charset=utf-8');
  return body;
});
await app.listen({ host: '127.0.0.1', port: Number(values.port) });
process.stdout.write(`bare Fastify on http://127.0.0.1:${values.port}\n`);
