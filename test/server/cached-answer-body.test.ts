import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKey } from '../../src/config/keys.js';
import { startTestServer, type TestServer } from '../support/server.js';

// Base 36: request ids carry it, and a long run of decimal digits can pass the card check (Luhn),
// when the id is redacted away and a fresh one made.
const RUN = `${process.pid.toString(36)}-${Date.now().toString(36)}`;
const QUESTION = 'Which colour is the lighthouse on the northern cape?';
/** The body's fields in the schema's order: the answer's own, then the request's report. */
const FIELDS = ['answer', 'contexts', 'citations', 'usage', 'model', 'latency_ms', 'timings', 'degraded', 'variant', 'cache'];

/**
 * A memory-tier hit of /v1/infer sends the cached answer's serialized bytes (made once per cached
 * answer) joined to the request's own report: the bytes must be those a fresh answer's body has,
 * and everything per request (id, RateLimit, variant, timings, the cache report) must be its own.
 */
describe('a cached answer served from stored bytes', () => {
  const alpha = createKey({ tenant: 'alpha', id: `alpha-${RUN}`, limits: { requests_per_s: 0.05, burst: 50 } });
  const beta = createKey({ tenant: 'beta', id: `beta-${RUN}` });
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ auth: { keys: [alpha.record, beta.record] }, sample_corpus: { enabled: false } });
    const write = await server.post(
      '/v1/documents',
      { documents: [{ id: 'cape', text: 'The lighthouse on the northern cape is painted red and white.' }] },
      { authorization: `Bearer ${alpha.key}` },
    );
    assert.equal(write.status, 200);
  });
  after(() => server.close());

  const ask = async (key: string, requestId: string, path = '/v1/infer', body: object = { text: QUESTION }) => {
    const res = await server.post(path, body, { authorization: `Bearer ${key}`, 'x-request-id': requestId });
    assert.equal(res.status, 200);
    return { headers: res.headers, text: await res.text() };
  };
  const headOf = (text: string) => text.slice(0, text.indexOf(',"latency_ms":'));

  test('a hit has the bytes of the fresh answer, its own report and its own headers', async () => {
    const fresh = await ask(alpha.key, `fresh-${RUN}`);
    assert.equal(fresh.headers.get('x-pronto-cache'), 'miss');
    const hits = [await ask(alpha.key, `hit-one-${RUN}`), await ask(alpha.key, `hit-two-${RUN}`)];
    for (const [i, hit] of hits.entries()) {
      assert.equal(hit.headers.get('x-pronto-cache'), 'memory');
      assert.equal(hit.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(hit.headers.get('x-request-id'), `hit-${i === 0 ? 'one' : 'two'}-${RUN}`);
      assert.equal(hit.headers.get('x-pronto-variant'), 'default');
      assert.match(hit.headers.get('server-timing') ?? '', /^total;dur=[\d.]+$/, 'a hit runs no stage');
      assert.match(hit.headers.get('ratelimit') ?? '', new RegExp(`^"key";r=${47 - i};t=\\d+$`), 'each hit is counted');
      assert.equal(headOf(hit.text), headOf(fresh.text), 'the answer part is byte for byte the fresh body');
      assert.equal(JSON.stringify(JSON.parse(hit.text)), hit.text, 'plain JSON');
      const body = JSON.parse(hit.text);
      assert.deepEqual(Object.keys(body), FIELDS);
      assert.deepEqual(body.cache, { hit: true, tier: 'memory' });
      assert.equal(body.variant, 'default');
      assert.deepEqual(Object.keys(body.timings), []);
    }
    const answer = JSON.parse(fresh.text);
    assert.match(answer.answer, /red and white/);
    assert.deepEqual(answer.cache, { hit: false });
  });

  test('/v1/chat with stream: false serves its hit the same way', async () => {
    const chat = { messages: [{ role: 'user', content: QUESTION }], stream: false };
    const fresh = await ask(alpha.key, `chat-fresh-${RUN}`, '/v1/chat', chat);
    const hit = await ask(alpha.key, `chat-hit-${RUN}`, '/v1/chat', chat);
    assert.equal(hit.headers.get('x-pronto-cache'), 'memory');
    assert.equal(hit.headers.get('x-request-id'), `chat-hit-${RUN}`);
    assert.equal(headOf(hit.text), headOf(fresh.text));
    assert.deepEqual(Object.keys(JSON.parse(hit.text)), FIELDS);
  });

  test("another tenant asking the same question is never sent alpha's bytes", async () => {
    const first = await ask(beta.key, `beta-one-${RUN}`);
    assert.equal(first.headers.get('x-pronto-cache'), 'miss');
    const body = JSON.parse(first.text);
    assert.deepEqual(body.contexts, [], "beta's namespace holds nothing");
    assert.doesNotMatch(first.text, /red and white/);
    const again = await ask(beta.key, `beta-two-${RUN}`);
    assert.equal(again.headers.get('x-pronto-cache'), 'memory');
    assert.equal(headOf(again.text), headOf(first.text), "beta's own answer, from its own entry");
    assert.equal(again.headers.get('ratelimit'), null, "beta's key has no request limit");
  });
});
