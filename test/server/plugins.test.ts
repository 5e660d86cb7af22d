import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createRuntime } from '../../src/runtime.js';
import { buildApp } from '../../src/server/app.js';
import { connectRedisOrSkip, deleteKeysUnder, scratchPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { metricValue, startTestServer } from '../support/server.js';

const KEYS = [
  { key: 'key-of-team-a-000', tenant: 'team-a' },
  { key: 'key-of-team-b-000', tenant: 'team-b' },
];
const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe('auth and tenant isolation', () => {
  test('requests need a valid key; each tenant sees only its own documents', async () => {
    const server = await startTestServer({ auth: { api_keys: KEYS } });
    try {
      const anonymous = await server.post('/v1/search', { query: 'q' });
      assert.equal(anonymous.status, 401);
      assert.equal((await anonymous.json()).error.code, 'unauthorized');
      assert.equal((await server.post('/v1/search', { query: 'q' }, as('wrong-key-00000'))).status, 401);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'probes need no key');

      const doc = (id: string, text: string) => ({ namespace: 'shared-name', documents: [{ id, text }] });
      assert.equal((await server.post('/v1/documents', doc('secret', 'Team A launches the walrus project in May.'), as(KEYS[0].key))).status, 200);
      const probe = await server.post('/v1/search', { query: 'walrus project', namespace: 'shared-name' }, as(KEYS[1].key));
      assert.equal(probe.status, 404, 'team B cannot even tell the namespace exists');

      assert.equal((await server.post('/v1/documents', doc('secret', 'Team B likes penguins.'), as(KEYS[1].key))).status, 200);
      const b = await (await server.post('/v1/search', { query: 'walrus project', namespace: 'shared-name' }, as(KEYS[1].key))).json();
      assert.ok(b.hits.every((h: { text: string }) => !h.text.includes('walrus')), 'same namespace name and id, different tenant');
      const a = await (await server.post('/v1/search', { query: 'walrus project', namespace: 'shared-name' }, as(KEYS[0].key))).json();
      assert.match(a.hits[0].text, /walrus/);
      const deleteOther = await fetch(`${server.url}/v1/documents/secret?namespace=shared-name`, { method: 'DELETE', headers: as(KEYS[1].key) });
      assert.equal(deleteOther.status, 200, 'deletes its own document only');
      const stillThere = await (await server.post('/v1/search', { query: 'walrus', namespace: 'shared-name' }, as(KEYS[0].key))).json();
      assert.match(stillThere.hits[0].text, /walrus/);
    } finally {
      await server.close();
    }
  });
});

describe('front-door limits', () => {
  test('the rate limit answers 429 with Retry-After in the error shape', async () => {
    const server = await startTestServer({ rate_limit: { enabled: true, max_per_minute: 3 } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await server.post('/v1/search', { query: 'q' })).status, 200);
      const limited = await server.post('/v1/search', { query: 'q' });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.equal((await limited.json()).error.code, 'rate_limited');
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'probes are not limited');
    } finally {
      await server.close();
    }
  });

  test('with Redis, replicas share one rate limit per tenant', async (t) => {
    const redis = await connectRedisOrSkip(t);
    if (!redis) return;
    const tenant = `rl-${process.pid}-${Date.now()}`;
    const prefix = scratchPrefix('shared-limit');
    // Under load a Redis answer can take longer than the production timeout: the test is about sharing.
    const shared = {
      redis_url: TEST_REDIS_URL,
      jobs: { prefix },
      cache: { prefix },
      rate_limit: { enabled: true, max_per_minute: 3, redis_timeout_ms: 5000 },
      auth: { api_keys: [{ key: 'shared-limit-key-0', tenant }] },
    };
    const a = await startTestServer(shared);
    const b = await startTestServer(shared);
    try {
      const key = as('shared-limit-key-0');
      assert.equal((await a.post('/v1/search', { query: 'q' }, key)).status, 200);
      assert.equal((await a.post('/v1/search', { query: 'q' }, key)).status, 200);
      assert.equal((await b.post('/v1/search', { query: 'q' }, key)).status, 200);
      assert.equal((await b.post('/v1/search', { query: 'q' }, key)).status, 429, 'the fourth request, on another replica, is over the shared limit');
    } finally {
      await a.close();
      await b.close();
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    }
  });

  test('beyond max_in_flight, /v1 requests get 503 at once', async () => {
    const server = await startTestServer({
      server: { max_in_flight: 1 },
      models: [
        { name: 'use-lite', role: 'embedder', backend: 'use-lite', warmup: { batch_sizes: [1] } },
        { name: 'extractive', role: 'generator', backend: 'extractive' },
        { name: 'slow-gen', role: 'generator', backend: 'sim', options: { base_ms: 0, per_item_ms: 50, answer_tokens: 20 } },
      ] as unknown as Config['models'],
      pipeline: { generator: 'slow-gen' },
    });
    try {
      const slow = server.post('/v1/infer', { text: 'take your time' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const refused = await server.post('/v1/search', { query: 'q' });
      assert.equal(refused.status, 503);
      assert.equal((await refused.json()).error.code, 'overloaded');
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal((await slow).status, 200);
      assert.equal((await server.post('/v1/search', { query: 'q' })).status, 200, 'the slot is free again');
    } finally {
      await server.close();
    }
  });

  test('while the event loop lags, /v1 work is shed with 503 and probes still answer', async () => {
    const server = await startTestServer({ server: { max_event_loop_delay_ms: 50 } });
    try {
      // Block this process's event loop, as a saturated server would, until a lag sample sees it:
      // which sampling window a block lands in depends on the machine's scheduling, so a loaded
      // machine may need a second block before the window's mean delay crosses the limit.
      let shed: Response | undefined;
      let health: Response | undefined;
      for (let attempt = 0; attempt < 5 && shed?.status !== 503; attempt++) {
        const until = Date.now() + 600;
        while (Date.now() < until);
        await new Promise((resolve) => setTimeout(resolve, 20)); // the overdue lag sample runs first
        [shed, health] = await Promise.all([server.post('/v1/search', { query: 'q' }), fetch(`${server.url}/healthz`)]);
        assert.equal(health.status, 200, 'probes answer while /v1 work is shed');
      }
      assert.equal(shed!.status, 503);
      assert.equal((await shed!.json()).error.code, 'overloaded');
      assert.ok((await metricValue(server.url, 'pronto_rejections_total', { reason: 'event_loop_delay' })) >= 1);
    } finally {
      await server.close();
    }
  });

  test('a stall far shorter than max_event_loop_delay_ms sheds nothing', async () => {
    // under-pressure reads a window without a single lag sample as infinite lag: with its 100 ms
    // window, any stall over ~100 ms shed every request for the next window, whatever the limit.
    const server = await startTestServer({ server: { max_event_loop_delay_ms: 2000 } });
    try {
      for (let stall = 0; stall < 5; stall++) {
        const until = Date.now() + 300;
        while (Date.now() < until); // a 300 ms stall, as a long synchronous step would make
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal((await server.post('/v1/search', { query: 'q' })).status, 200, `after stall ${stall + 1}`);
      }
    } finally {
      await server.close();
    }
  });

  test('before models are warm, /readyz and /v1 answer 503 and /healthz 200', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pronto-notready-'));
    const config = loadConfig({ env: {}, overrides: { data_dir: dataDir } });
    const runtime = createRuntime(config, { logger: pino({ level: 'silent' }), defaultMetrics: false });
    const { server } = await buildApp(runtime);
    try {
      assert.equal((await server.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      const ready = await server.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.json().error.code, 'not_ready');
      const search = await server.inject({ method: 'POST', url: '/v1/search', payload: { query: 'q' } });
      assert.equal(search.statusCode, 503);
      assert.equal(search.headers['retry-after'], '1');
    } finally {
      await server.close();
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a malformed x-request-id is replaced, a sane one echoed', async () => {
    const server = await startTestServer();
    try {
      const bad = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'x'.repeat(500) } });
      assert.match(bad.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      const good = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'abc.123:XYZ' } });
      assert.equal(good.headers.get('x-request-id'), 'abc.123:XYZ');
    } finally {
      await server.close();
    }
  });
});
