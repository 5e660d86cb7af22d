import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { createKey } from '../../src/config/keys.js';
import type { Config } from '../../src/config/schema.js';
import { readRequestLog, requestLogDir } from '../../src/observability/request-log.js';
import { metricValue, startTestServer, type TestServer } from '../support/server.js';

const MODELS = [
  { name: 'static', role: 'embedder', backend: 'static' },
  { name: 'extractive', role: 'generator', backend: 'extractive' },
] as unknown as Config['models'];

/**
 * Three variants: `control`, `sparse` (another retrieval mode) and `canary`, whose every request
 * fails (an injected fault in its sanitize stage) so that it is taken out of rotation.
 */
const VARIANTS = [
  { name: 'control', weight: 1 },
  { name: 'sparse', weight: 1, retrieval: { default_mode: 'sparse' } },
  { name: 'canary', weight: 1, canary: { max_error_ratio: 0.2, max_p95_ms: 60_000, window_s: 600, min_requests: 5 }, faults: { sanitize: { mode: 'throw' } } },
] as unknown as Config['variants'];

describe('pipeline variants (A/B and canary)', () => {
  let server: TestServer;
  const run = `${process.pid}-${Date.now()}`;
  const infer = (user: string, headers: Record<string, string> = {}) => server.post('/v1/infer', { text: 'What is a stage budget?', user_id: `${run}-${user}` }, headers);

  before(async () => {
    server = await startTestServer({
      models: MODELS,
      pipeline: { embedder: 'static', generator: 'extractive', fallback_generator: 'extractive' },
      variants: VARIANTS,
      observability: { request_log: { sample_rate: 1 } },
    });
  });
  after(() => server.close());

  test('the canary is taken out of rotation on its errors: logged, counted, its users moved', async () => {
    const canaryUsers: string[] = [];
    for (let user = 0; canaryUsers.length < 6 && user < 200; user++) {
      const response = await infer(`canary-${user}`);
      await response.body?.cancel();
      if (response.headers.get('x-pronto-variant') === 'canary') {
        assert.equal(response.status, 502);
        canaryUsers.push(`canary-${user}`);
      }
    }
    assert.ok(canaryUsers.length >= 5, `only ${canaryUsers.length} users landed on the canary`);
    assert.equal(await metricValue(server.url, 'pronto_variant_rollbacks_total', { variant: 'canary', reason: 'error_ratio' }), 1);
    assert.equal(await metricValue(server.url, 'pronto_variant_in_rotation', { variant: 'canary' }), 0);
    assert.match(server.logs(), /canary variant taken out of rotation/);
    assert.ok((await metricValue(server.url, 'pronto_http_requests_total', { variant: 'canary', status: '502' })) >= 5);
    for (const user of canaryUsers) {
      const response = await infer(user);
      assert.equal(response.status, 200);
      assert.notEqual((await response.json()).variant, 'canary');
    }
  });

  test('a user keeps their variant, named in the header and the body; users spread over the variants in rotation', async () => {
    const seen = new Map<string, number>();
    for (let user = 0; user < 30; user++) {
      const first = await infer(`sticky-${user}`);
      const variant = first.headers.get('x-pronto-variant');
      assert.ok(variant && ['control', 'sparse'].includes(variant), `variant ${variant}`);
      seen.set(variant, (seen.get(variant) ?? 0) + 1);
      assert.equal((await first.json()).variant, variant);
      for (let again = 0; again < 2; again++) {
        const next = await infer(`sticky-${user}`);
        await next.body?.cancel();
        assert.equal(next.headers.get('x-pronto-variant'), variant, `user ${user} changed variant`);
      }
    }
    assert.equal(seen.size, 2, `30 users all got ${[...seen.keys()]}`);
  });

  test('search takes the variant’s retrieval mode; a forced variant is served when allowed', async () => {
    const dense = await server.post('/v1/search', { query: 'stage budget' }, { 'x-pronto-variant': 'control' });
    const sparse = await server.post('/v1/search', { query: 'stage budget' }, { 'x-pronto-variant': 'sparse' });
    const [denseBody, sparseBody] = [await dense.json(), await sparse.json()];
    assert.equal(dense.headers.get('x-pronto-variant'), 'control');
    assert.equal(denseBody.variant, 'control');
    assert.equal(sparseBody.variant, 'sparse');
    // The sparse variant's default mode embeds nothing.
    assert.ok('embed' in denseBody.timings);
    assert.ok(!('embed' in sparseBody.timings), JSON.stringify(sparseBody.timings));
  });

  test('a forced variant that does not exist is a 400 naming the header', async () => {
    const response = await infer('unknown', { 'x-pronto-variant': 'nope' });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.error.field, 'x-pronto-variant');
    assert.match(body.error.message, /control, sparse, canary/);
  });

  test('feedback is counted per variant and rating, and summarised for the tenant', async () => {
    const rate = async (variant: string, rating: number) => {
      const answer = await infer(`rated-${variant}-${rating}`, { 'x-pronto-variant': variant });
      await answer.body?.cancel();
      const requestId = answer.headers.get('x-request-id')!;
      const feedback = await server.post('/v1/feedback', { request_id: requestId, rating });
      assert.equal(feedback.status, 202);
    };
    await rate('control', 5);
    await rate('control', 3);
    await rate('sparse', 1);
    const response = await fetch(`${server.url}/v1/feedback/summary?window_s=3600`);
    const summary = await response.json();
    assert.equal(response.status, 200, JSON.stringify(summary));
    assert.equal(summary.window_s, 3600);
    const byVariant = Object.fromEntries(summary.variants.map((v: { variant: string }) => [v.variant, v]));
    assert.deepEqual(byVariant.control, { variant: 'control', count: 2, mean_rating: 4, ratings: { '3': 1, '5': 1 } });
    assert.deepEqual(byVariant.sparse, { variant: 'sparse', count: 1, mean_rating: 1, ratings: { '1': 1 } });
    assert.equal(await metricValue(server.url, 'pronto_feedback_total', { variant: 'control', rating: '5' }), 1);
  });

  test('the request log line, the request log record (and its export) and the request view carry the variant', async () => {
    const answer = await infer('logged', { 'x-pronto-variant': 'sparse' });
    await answer.body?.cancel();
    const requestId = answer.headers.get('x-request-id')!;
    assert.equal((await server.post('/v1/feedback', { request_id: requestId, rating: 4 })).status, 202);
    const line = server
      .logs()
      .split('\n')
      .filter(Boolean)
      .map((text) => JSON.parse(text))
      .find((entry) => entry.msg === 'request' && entry.request_id === requestId);
    assert.equal(line?.variant, 'sparse');
    await server.runtime.requestLog.flush();
    const [record] = (await readRequestLog(requestLogDir(server.runtime.config.data_dir), { since: new Date(0), withFeedback: true })).filter(
      (r) => r.request_id === requestId,
    );
    assert.equal(record.variant, 'sparse');
    assert.deepEqual(record.feedback?.map((f) => f.rating), [4]);
    const view = await (await fetch(`${server.url}/stats/requests/${requestId}`)).json();
    assert.equal(view.variant, 'sparse');
  });

  test('each WebSocket chat frame gets a variant, forced by the upgrade header too; done names it', async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/chat/ws`, { headers: { 'x-pronto-variant': 'sparse' } });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const done = new Promise<{ type: string; variant?: string }>((resolve) =>
      socket.on('message', (raw) => {
        const event = JSON.parse(String(raw));
        if (event.type === 'done' || event.type === 'error') resolve(event);
      }),
    );
    socket.send(JSON.stringify({ text: 'What is a stage budget?', user_id: `${run}-ws` }));
    const event = await done;
    socket.close();
    assert.deepEqual([event.type, event.variant], ['done', 'sparse']);
  });

  test('a config reload (what SIGHUP does) puts the rolled-back canary back in rotation', async () => {
    assert.equal(await metricValue(server.url, 'pronto_variant_in_rotation', { variant: 'canary' }), 0);
    assert.equal(server.runtime.reloads.reload('test'), true);
    assert.equal(await metricValue(server.url, 'pronto_variant_in_rotation', { variant: 'canary' }), 1);
    let back = 0;
    for (let user = 0; back === 0 && user < 200; user++) {
      const response = await infer(`back-${user}`);
      await response.body?.cancel();
      if (response.headers.get('x-pronto-variant') === 'canary') back++;
    }
    assert.equal(back, 1, 'callers are assigned to the canary again');
  });
});

describe('variants with API keys', () => {
  let server: TestServer;
  const may = createKey({ tenant: 'variants', id: 'may-force', allow_variant_override: true });
  const mayNot = createKey({ tenant: 'variants', id: 'may-not-force' });
  const as = (key: string, variant?: string) => ({ authorization: `Bearer ${key}`, ...(variant ? { 'x-pronto-variant': variant } : {}) });

  before(async () => {
    server = await startTestServer({
      models: MODELS,
      pipeline: { embedder: 'static', generator: 'extractive', fallback_generator: 'extractive' },
      variants: VARIANTS.slice(0, 2),
      auth: { keys: [may.record, mayNot.record] },
    });
  });
  after(() => server.close());

  test('a key allowed to force a variant gets it; one that is not gets 403 forbidden_variant_override', async () => {
    const forced = await server.post('/v1/search', { query: 'stage budget' }, as(may.key, 'sparse'));
    assert.equal(forced.status, 200);
    assert.equal((await forced.json()).variant, 'sparse');
    const refused = await server.post('/v1/search', { query: 'stage budget' }, as(mayNot.key, 'sparse'));
    assert.equal(refused.status, 403);
    const { error } = await refused.json();
    assert.deepEqual([error.code, error.field], ['forbidden_variant_override', 'x-pronto-variant']);
  });

  test('without a user id, a key keeps its variant', async () => {
    const variants = new Set<string | null>();
    for (let i = 0; i < 5; i++) {
      const response = await server.post('/v1/search', { query: `stage budget ${i}` }, as(mayNot.key));
      await response.body?.cancel();
      variants.add(response.headers.get('x-pronto-variant'));
    }
    assert.equal(variants.size, 1, [...variants].join(', '));
  });
});
