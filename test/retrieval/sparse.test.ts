import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPacer } from '../../src/core/pace.js';
import { Bm25Index } from '../../src/retrieval/sparse.js';
import type { Chunk } from '../../src/retrieval/types.js';

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'kappa', 'sigma', 'omega', 'theta', 'lambda', 'zeta'];
const chunk = (n: number): Chunk => ({
  id: `d${n}#0`,
  docId: `d${n}`,
  index: 0,
  text: WORDS.filter((_, i) => (n >> i) % 2 === 1 || i === n % WORDS.length).join(' '),
  metadata: {},
});
const index = () => new Bm25Index({ k1: 1.5, b: 0.75, d: 0 }, async () => new Map());
const search = (bm25: Bm25Index, query: string) =>
  bm25.search(query, { namespace: 'ns', topK: 50, signal: new AbortController().signal }).then((hits) => hits.map((h) => [h.id, h.score.toFixed(9)]));

test('after deletions compact the index, it ranks exactly as one built from the survivors', async () => {
  const all = Array.from({ length: 1500 }, (_, n) => chunk(n));
  const compacted = index();
  await compacted.upsert('ns', all);
  for (let n = 0; n < 1100; n++) await compacted.deleteDocument('ns', `d${n}`); // compaction runs past half
  const fresh = index();
  await fresh.upsert('ns', all.slice(1100));
  for (const query of ['alpha', 'beta gamma', 'omega zeta lambda', 'kappa theta']) {
    assert.deepEqual(await search(compacted, query), await search(fresh, query), query);
  }
  await compacted.upsert('ns', [chunk(3)]);
  assert.ok((await search(compacted, 'alpha beta')).some(([id]) => id === 'd3#0'), 'adds after a compaction are found');
});

test('an upsert aborted during analysis leaves the index as it was', async () => {
  const bm25 = index();
  await bm25.upsert('ns', [chunk(1)]);
  const controller = new AbortController();
  controller.abort(new Error('deadline'));
  const replacement = { ...chunk(1), text: 'sigma' };
  await assert.rejects(bm25.upsert('ns', [replacement, chunk(2)], createPacer(controller.signal, 0)), /deadline/);
  assert.deepEqual((await search(bm25, 'alpha')).map(([id]) => id), ['d1#0']);
  assert.deepEqual(await search(bm25, 'sigma'), []);
});

test('writes made while a namespace is rebuilt from the store are kept, newer than the scan', async () => {
  const bm25 = index();
  const stored = [chunk(1), chunk(2), chunk(3), { ...chunk(4), text: 'stale' }];
  let release!: () => void;
  const halfway = new Promise<void>((resolve) => (release = resolve));
  async function* scan() {
    yield stored.slice(0, 2);
    await halfway; // the rebuild is half done when the writes below arrive
    yield stored.slice(2);
  }
  const rebuilt = bm25.replaceNamespace('ns', scan());
  await new Promise((resolve) => setImmediate(resolve));
  await bm25.upsert('ns', [chunk(5), { ...chunk(4), text: 'fresh' }]);
  await bm25.deleteDocument('ns', 'd3');
  release();
  await rebuilt;
  assert.deepEqual((await search(bm25, 'fresh')).map(([id]) => id), ['d4#0'], 'the newer write wins over the scanned copy');
  assert.deepEqual(await search(bm25, 'stale'), []);
  const fresh = index();
  await fresh.upsert('ns', [chunk(1), chunk(2), chunk(5), { ...chunk(4), text: 'fresh' }]);
  for (const query of ['alpha', 'beta gamma', 'omega zeta lambda', 'fresh']) {
    assert.deepEqual(await search(bm25, query), await search(fresh, query), `${query}: as if built from the survivors, no copy twice`);
  }
});
