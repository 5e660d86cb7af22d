import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { metricValue, startTestServer } from '../support/server.js';

// One item per batch, 100 ms each: an ingest of 16 one-sentence documents is 16 queued batches.
const MODELS = [
  {
    name: 'slow',
    role: 'embedder',
    backend: 'sim',
    options: { base_ms: 100, per_item_ms: 0, dimensions: 8 },
    batching: { max_batch_size: 1, max_wait_ms: 0 },
    warmup: { batch_sizes: [1] },
  },
  { name: 'extractive', role: 'generator', backend: 'extractive' },
] as unknown as Config['models'];

test('over HTTP, a search sent while an ingest fills the model queue goes ahead of it', async () => {
  const server = await startTestServer({ models: MODELS, pipeline: { embedder: 'slow' }, sample_corpus: { enabled: false } });
  try {
    assert.equal((await server.post('/v1/documents', { namespace: 'searched', documents: [{ id: 'a', text: 'Deadlines bound every request.' }] })).status, 200);
    const batches = () => metricValue(server.url, 'pronto_model_batch_size_count', { model: 'slow' });
    const before = await batches();
    const documents = Array.from({ length: 16 }, (_, i) => ({ id: `d${i}`, text: `Bulk document number ${i}.` }));
    const ingest = server.post('/v1/documents', { namespace: 'bulk', documents });
    while ((await batches()) === before) await new Promise((resolve) => setTimeout(resolve, 10)); // the ingest's batches run
    const search = await server.post('/v1/search', { query: 'deadlines', namespace: 'searched', mode: 'dense' });
    const ranAtAnswer = (await batches()) - before;
    assert.equal(search.status, 200);
    // In arrival order the query would have waited for all 16 bulk batches; ahead of them, for one or two.
    assert.ok(ranAtAnswer < 8, `${ranAtAnswer} of the ingest's 16 batches ran before the search was answered`);
    const ingested = await ingest;
    assert.equal(ingested.status, 200);
    assert.equal((await ingested.json()).accepted.length, 16);
  } finally {
    await server.close();
  }
});
