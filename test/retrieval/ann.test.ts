import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { LanceVectorStore } from '../../src/retrieval/lance-store.js';
import { HashEmbedder, openRetrieval, signal, type TestRetrieval } from './helpers.js';

const embedder = new HashEmbedder(32);
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
let t: TestRetrieval;

before(async () => {
  t = await openRetrieval({ retrieval: { ann: { min_rows: 300, num_partitions: 4, num_sub_vectors: 4, nprobes: 4, refine_factor: 10 } } });
  const docs = Array.from({ length: 320 }, (_, i) => ({
    id: `d${i}`,
    text: `${WORDS[i % 12]} ${WORDS[(i * 5) % 12]} ${WORDS[(i * 7) % 12]} item${i}`,
    metadata: { n: i, parity: i % 2 === 0 ? 'even' : 'odd' },
  }));
  const result = await t.retrieval.ingest('acme/big', docs, { embedder, signal });
  assert.equal(result.accepted.length, 320);
  const store = t.retrieval.store as LanceVectorStore;
  for (let i = 0; i < 600 && (await store.searchMethod('acme/big')) !== 'ann'; i++) await delay(100);
  assert.equal(await store.searchMethod('acme/big'), 'ann', 'the ANN index builds once min_rows is reached');
});
after(() => t.cleanup());

const dense = (query: string, filter?: Record<string, unknown>) =>
  t.retrieval.search({ query, namespace: 'acme/big', topK: 10, mode: 'dense', filter: filter as never, embedder, signal });

test('with the ANN index, dense search still finds the right documents', async () => {
  // 32-d hashed vectors of 320 near-duplicate texts tie often: ask for d0 among the top hits.
  const hits = await dense('alpha alpha alpha item0');
  assert.ok(hits.slice(0, 5).some((h) => h.docId === 'd0'), hits.map((h) => h.docId).join(','));
  assert.ok(hits[0].score > 0.99);
});

test('with the ANN index, filters run inside LanceDB as SQL (eq, in, ranges, quotes)', async () => {
  const ranged = await dense('alpha bravo', { n: { gte: 100, lt: 104 } });
  assert.deepEqual(ranged.map((h) => h.docId).sort(), ['d100', 'd101', 'd102', 'd103']);
  const odd = await dense('alpha bravo', { parity: 'odd', n: { in: [1, 2, 3, 4] } });
  assert.deepEqual(odd.map((h) => h.docId).sort(), ['d1', 'd3']);
  assert.deepEqual(await dense('alpha', { parity: "odd' OR '1'='1" }), []);
});

test('writes after the index is built are searchable, deletes disappear', async () => {
  await t.retrieval.ingest('acme/big', [{ id: 'late', text: 'zulu yankee xray', metadata: { n: 1000 } }], { embedder, signal });
  assert.equal((await dense('zulu yankee xray'))[0].docId, 'late');
  await t.retrieval.deleteDocument('acme/big', 'late');
  assert.equal((await dense('zulu yankee xray', { n: 1000 })).length, 0);
  const reopened = await t.reopen();
  const hits = await reopened.search({ query: 'alpha', namespace: 'acme/big', topK: 5, mode: 'dense', filter: { n: 7 }, embedder, signal });
  assert.deepEqual(hits.map((h) => h.docId), ['d7']);
});
