import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { startTestServer } from '../support/server.js';

const MODELS = [
  { name: 'tiny-queue', role: 'embedder', backend: 'sim', options: { base_ms: 1, per_item_ms: 0, dimensions: 8 }, batching: { max_queue_items: 2 }, warmup: { batch_sizes: [1] } },
  { name: 'extractive', role: 'generator', backend: 'extractive' },
] as unknown as Config['models'];

test('ingest refused for lack of model capacity answers 429/503 with Retry-After, never 400 invalid_input', async () => {
  const server = await startTestServer({ models: MODELS, pipeline: { embedder: 'tiny-queue' }, sample_corpus: { enabled: false } });
  try {
    // Sentence vectors: one document of many sentences is more items than the model queue holds.
    const text = Array.from({ length: 12 }, (_, i) => `Sentence number ${i} says something new.`).join(' ');
    const res = await server.post('/v1/documents', { namespace: 'overload', documents: [{ id: 'd1', text }] });
    const body = await res.json();
    assert.ok(res.status === 429 || res.status === 503, `status ${res.status}: ${JSON.stringify(body)}`);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.notEqual(body.error.code, 'invalid_input');
  } finally {
    await server.close();
  }
});
