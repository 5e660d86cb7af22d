import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { startTestServer, type TestServer } from '../support/server.js';

// `sim` costs a known 10 ms per input, so its measured cost is about 0.16 ms per character of the
// warmup's ~64-character inputs: documents of such sentences cost what the estimate says, on any
// machine (load only makes timers late, which makes the estimate larger, never smaller).
const MODELS = [
  { name: 'sim-embedder', role: 'embedder', backend: 'sim', options: { base_ms: 1, per_item_ms: 10, dimensions: 8 }, warmup: { batch_sizes: [1, 8, 64] } },
  { name: 'extractive', role: 'generator', backend: 'extractive' },
] as unknown as Config['models'];
const INGEST_MS = 30_000;
const SENTENCE = 'Otters hold hands while they sleep so that they do not drift apart. ';
const sentences = (chars: number) => SENTENCE.repeat(Math.ceil(chars / SENTENCE.length)).slice(0, chars);

describe('ingest refuses up front what its embedder cannot embed by the deadline', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ models: MODELS, pipeline: { embedder: 'sim-embedder' }, sample_corpus: { enabled: false }, deadline: { ingest_ms: INGEST_MS } });
  });
  after(() => server.close());

  async function expectRefused(documents: unknown[]) {
    const res = await server.post('/v1/documents', { namespace: 'fit', documents });
    const body = await res.json();
    assert.equal(res.status, 413, JSON.stringify(body));
    assert.equal(body.error.code, 'too_large_for_deadline');
    assert.equal(body.error.field, 'documents');
    assert.match(body.error.message, /sim-embedder/);
    assert.match(body.error.message, /POST \/v1\/jobs/);
    assert.ok(body.error.estimate_ms > body.error.remaining_ms, JSON.stringify(body.error));
    assert.ok(body.error.remaining_ms <= INGEST_MS);
    assert.ok(body.error.max_chars > 0);
    // Refused before anything was written.
    const id = (documents[0] as { id: string }).id;
    assert.equal((await fetch(`${server.url}/v1/documents/${id}?namespace=fit`, { method: 'DELETE' })).status, 404);
  }

  test('one document whose embedding takes longer than the deadline gets 413, not a 503 at the deadline', () =>
    // ~400,000 characters: ~6,000 inputs of 10 ms, a minute of work against 30 s.
    expectRefused([{ id: 'big', text: sentences(400_000) }]));

  test('so does a body of many small documents that add up to more', () =>
    expectRefused(Array.from({ length: 1000 }, (_, i) => ({ id: `small-${i}`, text: sentences(500) }))));

  test('ingest answers 504 at its deadline while a store write is in flight, and claims nothing written', async (t) => {
    // The write is held until the answer has come: only the deadline can produce that answer.
    const store = server.runtime.retrieval.store;
    const write = store.upsert.bind(store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const upsert = t.mock.method(store, 'upsert', async (...args: Parameters<typeof write>) => {
      await held;
      return write(...args);
    });
    try {
      // Long enough for the work before the write on a loaded machine; the write never ends before it.
      const res = await server.post('/v1/documents', { namespace: 'held', documents: [{ id: 'held', text: sentences(300) }] }, { 'x-pronto-deadline-ms': '15000' });
      const body = await res.json();
      assert.equal(upsert.mock.callCount(), 1, 'the answer came while the write was in flight');
      assert.equal(res.status, 504, JSON.stringify(body));
      assert.equal(body.error.code, 'deadline_exceeded');
      assert.equal(body.accepted, undefined);
    } finally {
      release();
    }
  });

  test('a document that fits is ingested (the model is never refused for one that fits)', async () => {
    const res = await server.post('/v1/documents', { namespace: 'fit', documents: [{ id: 'fits', text: sentences(2_000) }] });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual((await res.json()).accepted.map((a: { id: string }) => a.id), ['fits']);
  });
});
