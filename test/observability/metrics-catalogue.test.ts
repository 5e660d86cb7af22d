import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MODELS } from '../../src/config/models.js';
import { metricValue, readSse, startTestServer, type TestServer } from '../support/server.js';

/** Every metric docs/METRICS.md lists, with its type. */
const documented = [...readFileSync(new URL('../../docs/METRICS.md', import.meta.url), 'utf8').matchAll(/^\| `(pronto_[a-z_]+)` \| (counter|gauge|histogram) \|/gm)].map(
  (m) => ({ name: m[1], type: m[2] }),
);
/** Counters and histograms must grow under the workload; gauges must exist (their value is a level). */
const sampleOf = (m: { name: string; type: string }) => (m.type === 'histogram' ? `${m.name}_count` : m.name);

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}

describe('the metrics catalogue', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      // Simulated embedders: a fast one for the pipeline, and a slow one running one batch at a
      // time, so a request can be seen waiting in its queue.
      models: [
        { name: 'sim-embed', role: 'embedder', backend: 'sim', options: { base_ms: 2, per_item_ms: 0 } } as never,
        { name: 'sim-slow', role: 'embedder', backend: 'sim', options: { base_ms: 1000, per_item_ms: 0 }, batching: { max_concurrent_batches: 1 } } as never,
        DEFAULT_MODELS[1],
      ],
      pipeline: { embedder: 'sim-embed' },
      // The features stage always fails: asking with a user_id degrades it to default features.
      faults: { features: { mode: 'throw' } },
      // A canary taking no traffic of its own whose first (forced) request fails: it is rolled back.
      variants: [
        { name: 'control', weight: 1 },
        { name: 'canary', weight: 0, canary: { min_requests: 1, max_error_ratio: 0 }, faults: { sanitize: { mode: 'throw' } } },
      ] as never,
      // A memory tier of one 64-d vector: every new text evicts the last one (cache evictions move).
      cache: { embedding: { memory_bytes: 400 } },
    });
  });
  after(() => server?.close());

  test('docs/METRICS.md lists the catalogue', () => {
    assert.ok(documented.length >= 20, `found ${documented.length} metrics in docs/METRICS.md`);
  });

  test('every documented metric exists after a mixed workload, and each counter and histogram moved', async () => {
    const before = new Map<string, number>();
    for (const m of documented) before.set(m.name, await metricValue(server.url, sampleOf(m)));

    const json = (path: string, body: unknown) => server.post(path, body).then(async (r) => ({ status: r.status, body: await r.json() }));
    assert.equal((await json('/v1/documents', { namespace: 'catalogue', documents: [{ id: 'd1', text: 'Budgets bound every stage of a request.' }] })).status, 200);
    assert.equal((await json('/v1/search', { query: 'budgets', namespace: 'catalogue' })).status, 200);
    assert.equal((await json('/v1/search', { query: 'budgets', namespace: 'catalogue' })).status, 200, 'the second one hits the embedding cache');
    const infer = await server.post('/v1/infer', { text: 'What bounds a stage?', namespace: 'catalogue', user_id: 'u1' });
    assert.equal(infer.status, 200);
    const requestId = infer.headers.get('x-request-id');
    assert.equal((await json('/v1/feedback', { request_id: requestId, rating: 1 })).status, 202);
    for await (const event of readSse(await server.post('/v1/chat', { text: 'What bounds a stage?', namespace: 'catalogue' }))) assert.notEqual(event.event, 'error');
    assert.equal((await json('/v1/embeddings', { input: ['one', 'two'], model: 'sim-embed' })).status, 200);
    assert.equal((await json('/v1/search', { query: '' })).status, 400);
    assert.equal((await server.post('/v1/search', { query: 'budgets', namespace: 'catalogue' }, { 'x-pronto-variant': 'canary' })).status, 502);
    assert.equal((await fetch(`${server.url}/no/such/route`)).status, 404);

    const job = await json('/v1/jobs', { kind: 'embed', input: { texts: ['a job'] } });
    assert.equal(job.status, 202);
    await until(async () => {
      const state = await (await fetch(`${server.url}/v1/jobs/${job.body.job_id}`)).json();
      return state.status === 'succeeded' ? true : undefined;
    }, 'the job succeeded');

    // Refused at the front door while draining (and let in again after).
    server.app.state.shuttingDown = true;
    assert.equal((await json('/v1/search', { query: 'refused' })).status, 503);
    server.app.state.shuttingDown = false;

    // A request that leaves while its item waits in the model queue: the item is dropped unrun.
    const busy = server.post('/v1/embeddings', { input: ['keeps the model busy'], model: 'sim-slow' });
    const leaving = new AbortController();
    const abandoned = fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: ['leaves early'], model: 'sim-slow' }),
      signal: leaving.signal,
    }).catch(() => undefined);
    await until(async () => ((await metricValue(server.url, 'pronto_model_queue_depth', { model: 'sim-slow' })) > 0 ? true : undefined), 'an item queued');
    leaving.abort();
    await abandoned;
    await (await busy).arrayBuffer();
    await until(async () => ((await metricValue(server.url, 'pronto_model_items_dropped_total')) > 0 ? true : undefined), 'the item dropped');

    const text = await (await fetch(`${server.url}/metrics`)).text();
    const missing = documented.filter((m) => !new RegExp(`^${sampleOf(m)}[{ ]`, 'm').test(text)).map((m) => m.name);
    assert.deepEqual(missing, [], 'documented metrics absent from /metrics');
    const still: string[] = [];
    for (const m of documented) {
      if (m.type === 'gauge') continue;
      if ((await metricValue(server.url, sampleOf(m))) <= before.get(m.name)!) still.push(m.name);
    }
    assert.deepEqual(still, [], 'counters and histograms that did not move');
    assert.equal(await metricValue(server.url, 'pronto_model_ready', { model: 'sim-embed' }), 1);
    assert.equal(await metricValue(server.url, 'pronto_degradations_total', { stage: 'features' }), 1);
    assert.equal(await metricValue(server.url, 'pronto_rejections_total', { reason: 'shutting_down' }), 1);
  });

  test('label values stay bounded: routes are templates, unknown paths one value', async () => {
    await fetch(`${server.url}/v1/jobs/some-random-id-1`);
    await fetch(`${server.url}/v1/jobs/some-random-id-2`);
    await fetch(`${server.url}/random/${Date.now()}`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /route="\/v1\/jobs\/:id"/);
    assert.match(text, /route="unmatched"/);
    assert.doesNotMatch(text, /some-random-id|\/random\//);
  });
});
