import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { sleep } from '../../src/core/deadline.js';
import { QueryAdapter } from '../../src/retrieval/query-adapter.js';
import type { Retrieval } from '../../src/retrieval/retrieval.js';
import type { TuningFit } from '../../src/retrieval/tuning/tuning-store.js';
import type { Hit, SearchMode } from '../../src/retrieval/types.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { HashEmbedder, openRetrieval, signal, topicCorpus, type TestRetrieval } from './helpers.js';

/** Dense weight 1, BM25 0, no gate: hybrid then ranks exactly as dense search does. */
const DENSE_ONLY: TuningFit = { fusion: { weights: { dense: 1, sparse: 0 } }, documents: 12, report: { by: 'test' } };

/** An adapter sending every query to `target`'s direction: M = target · qᵀ maps a unit q to target. */
function adapterTowards(target: Float32Array, query: Float32Array): QueryAdapter {
  const n = target.length;
  const matrix = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) matrix[i * n + j] = target[i] * query[j];
  return new QueryAdapter({ embedder: 'hash', dimensions: n, training: {} }, matrix);
}

const ids = (hits: Hit[]) => hits.map((h) => h.docId);

describe('per-namespace tuning stored in the index', () => {
  let t: TestRetrieval;
  const embedder = new HashEmbedder();
  const search = (retrieval: Retrieval, namespace: string, query: string, mode: SearchMode = 'hybrid') =>
    retrieval.search({ query, namespace, topK: 12, mode, embedder, signal });
  // Words of every document (dense similarity spreads over all) and of one in BM25's eyes.
  const query = 'seasons regions laboratory conditions monitoring conservation otters';

  before(async () => {
    // Polls every 50 ms: a replica without the change feed takes up another's save within that.
    t = await openRetrieval({ retrieval: { follow: { poll_ms: 50 } } });
    for (const namespace of ['tenant-a/docs', 'tenant-b/docs']) {
      const result = await t.retrieval.ingest(namespace, topicCorpus(), { embedder, signal });
      assert.equal(result.failed.length, 0);
    }
  });
  after(() => t.cleanup());

  test("a namespace's stored fusion is used for it alone, versioned, and read by a second instance on the same index", async () => {
    const r = t.retrieval;
    const configured = ids(await search(r, 'tenant-a/docs', query));
    const dense = ids(await search(r, 'tenant-a/docs', query, 'dense'));
    assert.notDeepEqual(configured, dense, 'the configured fusion differs from dense alone here');
    assert.equal(await r.tuning.get('tenant-a/docs'), undefined);

    const saved = await r.tuning.save('tenant-a/docs', DENSE_ONLY);
    assert.equal(saved.version, 1);
    assert.deepEqual(ids(await search(r, 'tenant-a/docs', query)), dense);
    // The other tenant's namespace of the same name keeps the configured fusion.
    assert.deepEqual(ids(await search(r, 'tenant-b/docs', query)), configured);

    const replica = await t.reopen();
    // (Its own dense order: documents scored the same come in the order its mirror holds them.)
    assert.deepEqual(ids(await search(replica, 'tenant-a/docs', query)), ids(await search(replica, 'tenant-a/docs', query, 'dense')));
    assert.equal((await replica.tuning.get('tenant-a/docs'))?.version, 1);

    // A later fit is the next version, and the replica takes it up without a change message (its check every poll_ms).
    const second = await r.tuning.save('tenant-a/docs', { ...DENSE_ONLY, fusion: { weights: { dense: 0, sparse: 1 } } });
    assert.equal(second.version, 2);
    // BM25's order (documents BM25 scores the same may come in either order).
    const bm25 = new Map((await search(r, 'tenant-a/docs', query, 'sparse')).map((h) => [h.docId, h.score]));
    const fusedScores = ids(await search(r, 'tenant-a/docs', query)).map((id) => bm25.get(id) ?? 0);
    assert.deepEqual(
      fusedScores,
      [...fusedScores].sort((a, b) => b - a),
    );
    const deadline = performance.now() + 10_000;
    while ((await replica.tuning.get('tenant-a/docs'))?.version !== 2) {
      assert.ok(performance.now() < deadline, 'the replica never read version 2');
      await sleep(20);
    }

    assert.equal(await r.tuning.reset('tenant-a/docs'), true);
    assert.deepEqual(ids(await search(r, 'tenant-a/docs', query)), configured);
    assert.equal(await r.tuning.reset('tenant-a/docs'), false);
  });

  test("a namespace's stored adapter maps its dense queries; other namespaces keep theirs as embedded", async () => {
    const r = t.retrieval;
    const [queryVector] = await embedder.embed([query], { signal });
    const [bees] = await embedder.embed(['bees ' + topicCorpus()[10].text], { signal });
    const adapter = adapterTowards(bees, queryVector);
    await r.tuning.save('tenant-b/docs', { ...DENSE_ONLY, adapter });
    const stored = await r.tuning.get('tenant-b/docs');
    assert.deepEqual(stored?.adapter?.apply(queryVector), adapter.apply(queryVector));
    assert.equal((await search(r, 'tenant-b/docs', query, 'dense'))[0].docId, 'doc-10');
    assert.notEqual((await search(r, 'tenant-a/docs', query, 'dense'))[0].docId, 'doc-10');
    // The pipeline's dense search is the same per-namespace call.
    const hits = await r.searchDense(queryVector, { namespace: 'tenant-b/docs', topK: 1, signal });
    assert.equal(hits[0].docId, 'doc-10');
    await r.tuning.reset('tenant-b/docs');
  });
});

describe('the fit at ingest', () => {
  let t: TestRetrieval;
  const embedder = new HashEmbedder();
  before(async () => {
    t = await openRetrieval({ retrieval: { tuning: { fit_every_documents: 10, pseudo_queries: 10 } } });
  });
  after(() => t.cleanup());

  const waitForVersion = async (version: number) => {
    const deadline = performance.now() + 30_000;
    for (;;) {
      const tuned = await t.retrieval.tuning.get('public/grown');
      if (tuned?.version === version) return tuned;
      assert.ok(performance.now() < deadline, `no tuning version ${version} (have ${tuned?.version})`);
      await sleep(25);
    }
  };

  test('fits a namespace once it holds fit_every_documents, and again only after it has grown by as many', async () => {
    await t.retrieval.ingest('public/grown', topicCorpus().slice(0, 6), { embedder, signal });
    await sleep(200);
    assert.equal(await t.retrieval.tuning.get('public/grown'), undefined, 'six documents are not ten');
    await t.retrieval.ingest('public/grown', topicCorpus().slice(6), { embedder, signal });
    const first = await waitForVersion(1);
    assert.equal(first.documents, 12);
    assert.equal(first.report.pseudo_queries, 10);
    assert.match(String(first.report.by), /fit at ingest/);
    assert.ok(first.fusion.weights.dense >= 0 && first.fusion.weights.dense <= 1);

    const more = ['lichens', 'moths', 'geysers', 'estuaries', 'dunes'];
    await t.retrieval.ingest('public/grown', topicCorpus(more, 12), { embedder, signal });
    await sleep(200);
    assert.equal((await t.retrieval.tuning.get('public/grown'))?.version, 1, 'grown by 5, not 10');
    await t.retrieval.ingest('public/grown', topicCorpus(['kelp', 'ferns', 'wolves', 'owls', 'reefs'], 17), { embedder, signal });
    assert.equal((await waitForVersion(2)).documents, 22);
  });
});

describe('the search route uses the namespace tuning', () => {
  let server: TestServer;
  const MODELS = [
    {
      name: 'sim-embedder',
      role: 'embedder',
      backend: 'sim',
      options: { base_ms: 0, per_item_ms: 0, dimensions: 16 },
      warmup: { batch_sizes: [1] },
    },
    { name: 'extractive', role: 'generator', backend: 'extractive' },
  ] as unknown as Config['models'];
  before(async () => {
    server = await startTestServer({ models: MODELS, pipeline: { embedder: 'sim-embedder' }, sample_corpus: { enabled: false } });
    const res = await server.post('/v1/documents', { namespace: 'tuned', documents: topicCorpus() });
    assert.equal(res.status, 200, await res.clone().text());
  });
  after(() => server.close());

  const searchIds = async (mode: SearchMode) => {
    const res = await server.post('/v1/search', { query: 'otters seasons laboratory', namespace: 'tuned', top_k: 10, mode, rerank: false });
    assert.equal(res.status, 200);
    return ((await res.json()) as { hits: Array<{ id: string }> }).hits.map((h) => h.id);
  };

  test('a saved tuning changes the hybrid ranking of the next search (the cached answer is stale)', async () => {
    const dense = await searchIds('dense');
    const before = await searchIds('hybrid');
    assert.notDeepEqual(before, dense);
    assert.deepEqual(await searchIds('hybrid'), before);
    await server.runtime.retrieval.tuning.save('public/tuned', DENSE_ONLY);
    assert.deepEqual(await searchIds('hybrid'), dense);
  });
});
