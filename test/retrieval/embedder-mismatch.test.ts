import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createRetrieval } from '../../src/retrieval/create-retrieval.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { HashEmbedder, openRetrieval, signal, silentLogger } from './helpers.js';

const STATIC_MODELS = [
  { name: 'use-lite-static', role: 'embedder', backend: 'static' },
  { name: 'extractive', role: 'generator', backend: 'extractive' },
] as unknown as Config['models'];

test('a namespace records the embedder that built it; another embedder is refused with how to re-index', async () => {
  const t = await openRetrieval({ pipeline: { embedder: 'use-lite' } });
  const other = createRetrieval(loadConfig({ env: {}, overrides: { data_dir: t.dir, models: STATIC_MODELS, pipeline: { embedder: 'use-lite-static' } } }), {
    metrics: createMetrics({ defaultMetrics: false }),
    logger: silentLogger,
  });
  try {
    const embedder = new HashEmbedder();
    await t.retrieval.ingest('public/built', [{ id: 'a', text: 'deadlines and budgets for every request' }], { embedder, signal });
    // The server restarted with another embedder configured: it still starts (BM25 rebuilds from text)...
    await other.start();
    const isMismatch = (err: { code?: string; status?: number; message: string }) =>
      err.code === 'embedder_mismatch' && err.status === 409 && /indexed by embedder "use-lite".*Re-index it with "use-lite-static"/.test(err.message);
    // ...but refuses dense search and writes on that namespace.
    await assert.rejects(other.search({ query: 'deadlines', namespace: 'public/built', topK: 3, mode: 'dense', embedder, signal }), isMismatch);
    await assert.rejects(other.search({ query: 'deadlines', namespace: 'public/built', topK: 3, mode: 'hybrid', embedder, signal }), isMismatch);
    const ingested = await other.ingest('public/built', [{ id: 'b', text: 'more text' }], { embedder, signal });
    assert.equal(ingested.failed[0]?.error.code, 'embedder_mismatch');
    // A new namespace is built by, and served to, the embedder now configured.
    await other.ingest('public/fresh', [{ id: 'c', text: 'fresh text about budgets' }], { embedder, signal });
    assert.equal((await other.search({ query: 'budgets', namespace: 'public/fresh', topK: 3, mode: 'dense', embedder, signal })).length, 1);
  } finally {
    await other.close();
    await t.cleanup();
  }
});
