import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { connectRedisOrSkip, deleteKeysUnder, scratchPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Two deployments (each its own `jobs.prefix`) on one Redis, both with the default tenant: the
 * feedback list, the request ledger and the rate-limit counters are the deployment's, so neither
 * can rate the other's requests, see its ratings or spend its request limit.
 */
describe('two deployments sharing a Redis', () => {
  const prefixes = [scratchPrefix('deploy-a'), scratchPrefix('deploy-b')];
  let redis: Redis | undefined;
  let servers: TestServer[] = [];

  before(async (t) => {
    redis = await connectRedisOrSkip(t as never);
    if (!redis) return;
    servers = await Promise.all(
      prefixes.map((prefix) =>
        startTestServer({
          redis_url: TEST_REDIS_URL,
          jobs: { prefix },
          cache: { prefix },
          // Under load a Redis answer can take longer than the production timeout: the test is about whose count it is.
          rate_limit: { enabled: true, max_per_minute: 6, redis_timeout_ms: 5000 },
          observability: { log_level: 'warn' as const },
        }),
      ),
    );
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    if (redis) {
      for (const prefix of prefixes) await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    }
  });

  test("neither rates the other's request nor sees its ratings; the keys are under each one's prefix", async (t) => {
    if (!redis) return t.skip('no Redis');
    const [a, b] = servers;
    const answered = await a.post('/v1/infer', { text: 'What does a deadline cancel?' });
    assert.equal(answered.status, 200);
    await answered.text();
    const requestId = answered.headers.get('x-request-id')!;
    assert.equal((await b.post('/v1/feedback', { request_id: requestId, rating: -1 })).status, 404, "b's ledger does not hold a's request");
    assert.equal((await a.post('/v1/feedback', { request_id: requestId, rating: 5 })).status, 202);
    const rated = async (server: TestServer) => {
      const summary = await (await fetch(`${server.url}/v1/feedback/summary?window_s=3600`)).json();
      return (summary.variants as Array<{ count: number }>).reduce((n, v) => n + v.count, 0);
    };
    assert.equal(await rated(a), 1);
    assert.equal(await rated(b), 0, "b's summary holds none of a's ratings");
    assert.equal(await redis.exists(`${prefixes[0]}:request:public:${requestId}`), 1, 'the ledger entry is under the prefix');
    assert.equal(await redis.llen(`${prefixes[0]}:feedback`), 1, 'so is the feedback list');
  });

  test("one's request limit is its own: a tenant limited on one is served by the other", async (t) => {
    if (!redis) return t.skip('no Redis');
    const [a, b] = servers;
    let status = 0;
    for (let sent = 0; sent < 10 && status !== 429; sent++) status = (await a.post('/v1/search', { query: 'q' })).status;
    assert.equal(status, 429, 'a limits the tenant once its 6 a minute are spent');
    assert.equal((await b.post('/v1/search', { query: 'q' })).status, 200, "b's count is not a's");
    assert.ok((await redis.keys(`${prefixes[0]}:ratelimit:*`)).length > 0, "a's counter is under a's prefix");
  });
});
