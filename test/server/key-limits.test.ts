import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { KeyLimits } from '../../src/config/auth.js';
import { createKey } from '../../src/config/keys.js';
import { connectRedisOrSkip, deleteKeysUnder, scratchPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const RUN = `${process.pid}-${Date.now()}`;
/** A request limit whose window (burst / rate) is far longer than any test: no clock in the test. */
const THREE_PER_MINUTE: KeyLimits = { requests_per_s: 0.05, burst: 3 };

describe('per-key limits', () => {
  const requests = createKey({ tenant: 'limits', id: `requests-${RUN}`, limits: THREE_PER_MINUTE });
  const streams = createKey({ tenant: 'limits', id: `streams-${RUN}`, limits: { concurrent_streams: 1 } });
  const tokens = createKey({ tenant: 'limits', id: `tokens-${RUN}`, limits: { tokens_per_minute: 3 } });
  const free = createKey({ tenant: 'limits', id: `free-${RUN}` });
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ auth: { keys: [requests.record, streams.record, tokens.record, free.record] } });
  });
  after(() => server.close());

  test("requests/s with burst: 429 past the burst, with Retry-After and the IETF RateLimit headers", async () => {
    const first = await server.post('/v1/search', { query: 'q' }, as(requests.key));
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('ratelimit-policy'), '"key";q=3;w=60');
    assert.match(first.headers.get('ratelimit') ?? '', /^"key";r=2;t=\d+$/);
    assert.equal((await server.post('/v1/search', { query: 'q' }, as(requests.key))).status, 200);
    assert.equal((await server.post('/v1/search', { query: 'q' }, as(requests.key))).status, 200);
    const refused = await server.post('/v1/search', { query: 'q' }, as(requests.key));
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.match(refused.headers.get('ratelimit') ?? '', /^"key";r=0;t=\d+$/);
    const { error } = await refused.json();
    assert.equal(error.code, 'rate_limited');
    assert.equal(error.limit, 'requests_per_s');
    const other = await server.post('/v1/search', { query: 'q' }, as(free.key));
    assert.equal(other.status, 200, 'another key has its own budget');
    assert.equal(other.headers.get('ratelimit'), null, 'and no limit to report');
  });

  test('concurrent streams: a WebSocket holds a slot while open; SSE and another socket are refused until it closes', async () => {
    const url = `${server.url.replace('http', 'ws')}/v1/chat/ws`;
    const socket = new WebSocket(url, { headers: as(streams.key) });
    await once(socket, 'open');
    const sse = await server.post('/v1/chat', { text: 'What is pronto?' }, as(streams.key));
    assert.equal(sse.status, 429);
    const { error } = await sse.json();
    assert.equal(error.limit, 'concurrent_streams');
    assert.equal((await server.post('/v1/chat', { text: 'What is pronto?', stream: false }, as(streams.key))).status, 200, 'a whole answer is no stream');
    const second = new WebSocket(url, { headers: as(streams.key) });
    const [, response] = await once(second, 'unexpected-response');
    assert.equal(response.statusCode, 429);
    socket.close();
    await once(socket, 'close');
    // The slot is freed when the server sees the socket close: poll the outcome, no fixed wait.
    for (let tries = 0; ; tries++) {
      const res = await server.post('/v1/chat', { text: 'What is pronto?' }, as(streams.key));
      await res.text();
      if (res.status === 200) break;
      assert.ok(tries < 100, `still ${res.status} after the socket closed`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  test('generated tokens per minute: once spent, answers are refused until the minute ends', async () => {
    // A minute may turn between the two requests (the budget then starts again): try once more.
    let refused: Response | undefined;
    for (let attempt = 0; attempt < 2 && !refused; attempt++) {
      const answered = await server.post('/v1/infer', { text: 'How does pronto degrade?' }, as(tokens.key));
      assert.equal(answered.status, 200);
      assert.ok((await answered.json()).usage.completion_tokens > 3);
      const next = await server.post('/v1/infer', { text: 'How does pronto degrade?' }, as(tokens.key));
      if (next.status === 429) refused = next;
    }
    assert.ok(refused, 'the second answer in one minute is refused');
    assert.equal((await refused.json()).error.limit, 'tokens_per_minute');
    assert.ok(Number(refused.headers.get('retry-after')) <= 60);
    assert.equal((await server.post('/v1/search', { query: 'q' }, as(tokens.key))).status, 200, 'search generates nothing');
  });
});

describe('per-key limits across replicas (Redis)', () => {
  test('two replicas share one key’s request budget and stream slots', async (t) => {
    const redis = await connectRedisOrSkip(t);
    if (!redis) return;
    const shared = createKey({ tenant: 'limits', id: `shared-${RUN}`, limits: { ...THREE_PER_MINUTE, concurrent_streams: 1 } });
    // Under load a Redis answer can take longer than the production timeout: the test is about sharing.
    const prefix = scratchPrefix('key-limits');
    const config = { redis_url: TEST_REDIS_URL, jobs: { prefix }, cache: { prefix }, rate_limit: { redis_timeout_ms: 5000 }, auth: { keys: [shared.record] } };
    const a = await startTestServer(config);
    const b = await startTestServer(config);
    try {
      assert.equal((await a.post('/v1/search', { query: 'q' }, as(shared.key))).status, 200);
      const socket = new WebSocket(`${b.url.replace('http', 'ws')}/v1/chat/ws`, { headers: as(shared.key) });
      await once(socket, 'open');
      const sse = await a.post('/v1/chat', { text: 'q' }, as(shared.key));
      assert.equal(sse.status, 429, "replica A sees the stream open on replica B");
      socket.close();
      assert.equal((await b.post('/v1/search', { query: 'q' }, as(shared.key))).status, 429, 'the fourth request, on the other replica, is over the shared burst');
    } finally {
      await a.close();
      await b.close();
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    }
  });
});
