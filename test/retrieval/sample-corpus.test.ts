import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { UseLiteEmbedder } from '../../src/models/backends/use-lite.js';
import { ensureSampleCorpus, loadSampleCorpus } from '../../src/retrieval/sample-corpus.js';
import { HashEmbedder, openRetrieval, signal, silentLogger, type TestRetrieval } from './helpers.js';

let t: TestRetrieval;
const embedder = new UseLiteEmbedder('use-lite');

before(async () => {
  t = await openRetrieval();
  await embedder.load();
});
after(() => t.cleanup());

test('the sample corpus splits pronto docs by heading, with titles', async () => {
  const docs = await loadSampleCorpus();
  assert.ok(docs.length >= 20);
  assert.ok(docs.every((d) => d.title && d.text.trim().length > 0));
  assert.equal(new Set(docs.map((d) => d.id)).size, docs.length);
});

test('ensureSampleCorpus ingests into an empty namespace once, and search finds the right section', async () => {
  const n = await ensureSampleCorpus(t.retrieval, embedder, ['public/default'], silentLogger);
  assert.ok(n >= 20);
  assert.equal(await ensureSampleCorpus(t.retrieval, embedder, ['public/default'], silentLogger), 0);
  for (const mode of ['dense', 'sparse', 'hybrid'] as const) {
    const hits = await t.retrieval.search({
      query: 'what happens when the reranker fails or the deadline passes?',
      namespace: 'public/default',
      topK: 3,
      mode,
      embedder,
      signal,
    });
    assert.ok(
      hits.some((h) => h.docId.startsWith('05-deadlines/') || h.docId === '07-retrieval/3-reranking'),
      `${mode}: ${hits.map((h) => h.docId).join(', ')}`,
    );
  }
});

test('several tenants each get their copy, embedded once', async () => {
  const hash = new HashEmbedder();
  const n = await ensureSampleCorpus(t.retrieval, hash, ['team-a/default', 'team-b/default'], silentLogger);
  const callsForBoth = hash.calls;
  const docs = await loadSampleCorpus();
  assert.equal(n, 2 * docs.length);
  const single = new HashEmbedder();
  await ensureSampleCorpus(t.retrieval, single, ['team-c/default'], silentLogger);
  assert.equal(callsForBoth, single.calls, 'the second copy made no embedder call');
  for (const namespace of ['team-a/default', 'team-b/default']) {
    const hits = await t.retrieval.search({ query: 'deadline budget', namespace, topK: 3, mode: 'hybrid', embedder: hash, signal });
    assert.ok(hits.length > 0, namespace);
  }
});
