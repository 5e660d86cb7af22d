import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { UseLiteEmbedder } from '../../src/models/backends/use-lite.js';
import { ensureSampleCorpus, loadSampleCorpus } from '../../src/retrieval/sample-corpus.js';
import { openRetrieval, signal, silentLogger, type TestRetrieval } from './helpers.js';

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
  const n = await ensureSampleCorpus(t.retrieval, embedder, 'public/default', silentLogger);
  assert.ok(n >= 20);
  assert.equal(await ensureSampleCorpus(t.retrieval, embedder, 'public/default', silentLogger), 0);
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
