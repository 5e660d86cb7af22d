import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { createKey } from '../../src/config/keys.js';
import { connectRedisOrSkip, deleteKeysUnder, scratchPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { STREAM_MODELS } from '../support/grpc.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Keys of this run only: other tests share the Redis. */
const PREFIX = scratchPrefix('tenants');
const NS = 'shared-name';
const QUESTION = 'Which enzyme does the marker protein inhibit?';
const CLOSE = QUESTION.toLowerCase();

type Json = Record<string, any>;

/**
 * The cross-tenant probe with everything on the real Redis: jobs on BullMQ, the results cache's
 * Redis tier (exact and semantic), the index versions, the request ledger feedback is rated
 * against. Tenant beta uses the same namespace name, question and ids as alpha and must never
 * read, change or invalidate anything of alpha's.
 */
describe("cross-tenant probe on Redis: beta can't read, rate or invalidate alpha's data", () => {
  // Tenants of this run only: their names say which run made a key when one is left behind.
  const RUN = `${process.pid}_${Date.now()}`;
  const alpha = createKey({ tenant: `alpha_${RUN}`, id: 'alpha' });
  const beta = createKey({ tenant: `beta_${RUN}`, id: 'beta' });
  let redis: Redis | undefined;
  let server: TestServer;

  before(async (t) => {
    redis = await connectRedisOrSkip(t as never);
    if (!redis) return;
    server = await startTestServer({
      redis_url: TEST_REDIS_URL,
      jobs: { prefix: PREFIX },
      models: STREAM_MODELS,
      pipeline: { embedder: 'sim', generator: 'extractive' },
      auth: { keys: [alpha.record, beta.record] },
      // The sim embedder's vectors are hashes of the text: CLOSE is at cosine 0.18 of QUESTION, so a
      // low bar makes it a semantic hit in whichever scope holds QUESTION's answer.
      cache: { prefix: PREFIX, redis_timeout_ms: 2000, semantic: { enabled: true, min_cosine: 0.1 } },
      observability: { log_level: 'warn' as const },
    });
  });

  after(async () => {
    await server?.close();
    if (redis) {
      await deleteKeysUnder(redis, PREFIX);
      redis.disconnect();
    }
  });

  const call = (method: string, path: string, key: string, body?: unknown) =>
    fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const json = async (res: Response, status = 200): Promise<Json> => {
    assert.equal(res.status, status, `${res.url}: ${res.status} ${await res.clone().text()}`);
    return res.json() as Promise<Json>;
  };
  const ask = (key: string, text = QUESTION) => call('POST', '/v1/infer', key, { text, namespace: NS });

  test('documents: same namespace name, same id — beta sees none of alpha\'s and deletes nothing of it', async (t) => {
    if (!redis) return t.skip('no Redis');
    const doc = { id: 'doc-1', text: 'Alpha only: the marker protein inhibits carbonic anhydrase in alpha lab notes.' };
    await json(await call('POST', '/v1/documents', alpha.key, { namespace: NS, documents: [doc] }));
    // Beta's namespace of that name does not exist yet: a 404, or (should it) no hit of alpha's.
    const seen = await call('POST', '/v1/search', beta.key, { query: 'marker protein carbonic anhydrase', namespace: NS });
    const body = (await seen.json()) as Json;
    if (seen.status === 404) assert.equal(body.error.code, 'unknown_namespace');
    else assert.deepEqual(body.hits, [], JSON.stringify(body));
    await json(await call('DELETE', `/v1/documents/doc-1?namespace=${NS}`, beta.key), 404);
    const hits = (await json(await call('POST', '/v1/search', alpha.key, { query: 'marker protein carbonic anhydrase', namespace: NS }))).hits as Json[];
    assert.ok(hits.some((hit) => hit.doc_id === 'doc-1'), "alpha's document is still there");
  });

  test("cached answers: alpha's, exact or semantic, are never served to beta; beta's writes leave alpha's cache alone", async (t) => {
    if (!redis) return t.skip('no Redis');
    await json(await ask(alpha.key));
    const cached = await ask(alpha.key);
    assert.equal(cached.headers.get('x-pronto-cache'), 'memory');
    const [alphaAnswer] = [(await json(cached)).answer];
    // Beta: the same question, then a close one (a semantic hit in alpha's scope would be served).
    const same = await json(await call('POST', '/v1/infer', beta.key, { text: QUESTION, namespace: 'default' }));
    assert.deepEqual(same.cache, { hit: false });
    await json(await call('POST', '/v1/documents', beta.key, { namespace: NS, documents: [{ id: 'doc-1', text: 'Beta: something else entirely.' }] }));
    const exact = await json(await ask(beta.key));
    assert.deepEqual(exact.cache, { hit: false }, 'the same question in the same-named namespace, from beta: a miss');
    assert.notEqual(exact.answer, alphaAnswer);
    const close = await json(await ask(beta.key, CLOSE));
    assert.equal(close.cache.question, QUESTION, "beta's own answer is the semantic hit, not alpha's");
    assert.equal(close.answer, exact.answer);
    // Beta wrote (twice, with the same id as alpha's document): alpha's cached answer still stands.
    const again = await ask(alpha.key);
    assert.equal(again.headers.get('x-pronto-cache'), 'memory', "beta's write did not invalidate alpha's cache");
    assert.equal((await json(again)).answer, alphaAnswer);
  });

  test("jobs on BullMQ: beta can't read alpha's job by its id", async (t) => {
    if (!redis) return t.skip('no Redis');
    const submitted = await json(await call('POST', '/v1/jobs', alpha.key, { kind: 'infer', input: { text: QUESTION, namespace: NS } }), 202);
    const id = submitted.job_id as string;
    await json(await call('GET', `/v1/jobs/${id}`, beta.key), 404);
    for (let tries = 0; ; tries++) {
      const job = await json(await call('GET', `/v1/jobs/${id}`, alpha.key));
      if (job.status === 'succeeded') break;
      assert.ok(tries < 200 && job.status !== 'failed', `job ${job.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await json(await call('GET', `/v1/jobs/${id}`, beta.key), 404);
  });

  test("feedback: beta can't rate alpha's request, and its summary holds none of alpha's ratings", async (t) => {
    if (!redis) return t.skip('no Redis');
    const answered = await ask(alpha.key);
    const requestId = answered.headers.get('x-request-id')!;
    await answered.text();
    await json(await call('POST', '/v1/feedback', beta.key, { request_id: requestId, rating: -1 }), 404);
    await json(await call('POST', '/v1/feedback', alpha.key, { request_id: requestId, rating: 5 }), 202);
    const total = (summary: Json) => (summary.variants as Json[]).reduce((n, v) => n + (v.count ?? 0), 0);
    assert.equal(total(await json(await call('GET', '/v1/feedback/summary', alpha.key))), 1);
    assert.equal(total(await json(await call('GET', '/v1/feedback/summary', beta.key))), 0);
  });
});
