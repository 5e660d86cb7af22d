import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOwnRedis } from '../support/redis-server.js';
import { metricValue, startTestServer, type TestServer } from '../support/server.js';

/** Polls until `check` is true (the test's own limit bounds it). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 100));
}

// A Redis of the test's own, killed and restarted under a running server.
const redis = await startOwnRedis();

describe('a Redis outage', { skip: redis ? false : 'redis-server is not installed', timeout: 60_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ redis_url: redis!.url, rate_limit: { enabled: true, max_per_minute: 1000 } });
  });
  after(async () => {
    await server?.close();
    await redis?.close();
  });

  test('degrades (search served, caches in memory, limits local, job submission 503) and recovers without a restart', async () => {
    assert.equal((await server.post('/v1/jobs', { kind: 'embed', input: { texts: ['a'] } })).status, 202);
    // (Until the index follower has settled after start, a namespace may get a new version: hence eventually.)
    await eventually(async () => (await server.post('/v1/infer', { text: 'How are stages budgeted?' })).headers.get('x-pronto-cache') === 'memory');
    await redis!.kill();

    const search = await server.post('/v1/search', { query: 'deadlines and budgets' });
    assert.equal(search.status, 200, 'caches fall back to memory and the rate limit to this replica');
    // The cached answer is not served: with the index version unknown, another replica's write could not be seen.
    const infer = await server.post('/v1/infer', { text: 'How are stages budgeted?' });
    assert.equal(infer.status, 200);
    assert.equal(infer.headers.get('x-pronto-cache'), 'miss');
    const embeddingHits = await metricValue(server.url, 'pronto_cache_requests_total', { cache: 'embedding', result: 'hit_memory' });
    assert.equal((await server.post('/v1/search', { query: 'deadlines and budgets' })).status, 200);
    assert.ok((await metricValue(server.url, 'pronto_cache_requests_total', { cache: 'embedding', result: 'hit_memory' })) > embeddingHits, 'embeddings still come from memory');
    const job = await server.post('/v1/jobs', { kind: 'embed', input: { texts: ['a'] } });
    assert.equal(job.status, 503);
    assert.ok(job.headers.get('retry-after'));
    assert.equal(((await job.json()) as { error: { code: string } }).error.code, 'store_unavailable');

    await redis!.start();
    await eventually(async () => (await server.post('/v1/jobs', { kind: 'embed', input: { texts: ['b'] } })).status === 202);
    assert.equal((await server.post('/v1/search', { query: 'deadlines' })).status, 200);
    await eventually(async () => (await server.post('/v1/infer', { text: 'How are stages budgeted?' })).headers.get('x-pronto-cache') === 'memory');
  });
});
