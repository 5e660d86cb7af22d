import assert from 'node:assert/strict';
import { test } from 'node:test';
import { denseShare, fuse } from '../../src/retrieval/fusion.js';
import type { Hit } from '../../src/retrieval/types.js';

const hit = (id: string, score: number): Hit => ({ id, docId: id, score, text: id, metadata: {} });
const weights = { dense: 1, sparse: 1 };

test('RRF rewards agreement between the lists and ignores score scales', () => {
  const dense = [hit('a', 0.9), hit('b', 0.8), hit('c', 0.7)];
  const sparse = [hit('b', 40), hit('d', 30), hit('a', 1)];
  const fused = fuse(dense, sparse, { method: 'rrf', topK: 10, weights, rrfK: 60 });
  assert.deepEqual(fused.map((h) => h.id), ['b', 'a', 'd', 'c']);
  assert.ok(Math.abs(fused[0].score - (1 / 62 + 1 / 61)) < 1e-12);
});

test('weighted fusion min-max normalises each list, so weights decide', () => {
  const dense = [hit('a', 0.9), hit('b', 0.5)];
  const sparse = [hit('b', 12), hit('c', 2)];
  const denseHeavy = fuse(dense, sparse, { method: 'weighted', topK: 3, weights: { dense: 0.9, sparse: 0.1 }, rrfK: 60 });
  const sparseHeavy = fuse(dense, sparse, { method: 'weighted', topK: 3, weights: { dense: 0.1, sparse: 0.9 }, rrfK: 60 });
  assert.equal(denseHeavy[0].id, 'a');
  assert.equal(sparseHeavy[0].id, 'b');
  assert.ok(Math.abs(sparseHeavy[0].score - 0.9) < 1e-12);
});

test('fusion keeps topK, tolerates an empty list and keeps the hit fields', () => {
  const dense = [hit('a', 0.9), hit('b', 0.8), hit('c', 0.1)];
  for (const method of ['rrf', 'weighted'] as const) {
    const fused = fuse(dense, [], { method, topK: 2, weights, rrfK: 60 });
    assert.deepEqual(fused.map((h) => h.id), ['a', 'b'], method);
    assert.equal(fused[0].text, 'a');
  }
  assert.deepEqual(fuse([], [], { method: 'rrf', topK: 5, weights, rrfK: 60 }), []);
});

test('normalisations: raw cosine and BM25 over its max; a hit missing from a list gets its floor', () => {
  const dense = [hit('a', 0.8), hit('b', 0.4)];
  const sparse = [hit('b', 10), hit('c', 5)];
  const fused = fuse(dense, sparse, {
    method: 'weighted', topK: 3, weights: { dense: 1, sparse: 1 }, rrfK: 60, normalization: { dense: 'raw', sparse: 'max' },
  });
  const byId = Object.fromEntries(fused.map((h) => [h.id, h.score]));
  assert.ok(Math.abs(byId.a - (0.8 + 0.5)) < 1e-12, 'a: missing from sparse gets its floor 5/10');
  assert.ok(Math.abs(byId.b - (0.4 + 1)) < 1e-12);
  assert.ok(Math.abs(byId.c - (0.4 + 0.5)) < 1e-12, 'c: missing from dense gets its lowest cosine');
  const z = fuse(dense, sparse, { method: 'weighted', topK: 3, weights, rrfK: 60, normalization: { dense: 'zscore', sparse: 'zscore' } });
  // z-scores of two-hit lists are +1 and -1: a = 1 - 1, b = -1 + 1, c = -1 - 1.
  assert.deepEqual(z.map((h) => [h.id, Math.round(h.score * 1e9) / 1e9 + 0]), [['a', 0], ['b', 0], ['c', -2]]);
});

test('the agreement gate silences the dense list where the two lists already agree, and keeps its weight where they do not', () => {
  const gate = { depth: 2, full: 0.5 };
  // Both tops hold 'a': overlap 1/2 reaches `full`, so the dense list's weight is 0 and BM25's order stands.
  const agreeing = fuse([hit('c', 0.9), hit('a', 0.8), hit('b', 0.1)], [hit('a', 9), hit('b', 8), hit('c', 1)], {
    method: 'weighted', topK: 3, weights: { dense: 10, sparse: 1 }, rrfK: 60, normalization: { dense: 'zscore', sparse: 'zscore' }, agreement: gate,
  });
  assert.deepEqual(agreeing.map((h) => h.id), ['a', 'b', 'c']);
  // No overlap in the tops: the dense weight applies in full, as without the gate.
  const dense = [hit('c', 0.9), hit('d', 0.8), hit('a', 0.1)];
  const sparse = [hit('a', 9), hit('b', 8), hit('c', 1)];
  const options = { method: 'weighted' as const, topK: 4, weights: { dense: 10, sparse: 1 }, rrfK: 60 };
  assert.deepEqual(fuse(dense, sparse, { ...options, agreement: gate }), fuse(dense, sparse, options));
  assert.equal(denseShare(dense, sparse, gate), 1);
  assert.equal(denseShare(dense, sparse, { depth: 3, full: 1 }), 1 - 2 / 3);
});
