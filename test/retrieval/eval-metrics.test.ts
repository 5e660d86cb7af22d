import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mrrAt, ndcgAt, percentile, recallAt } from '../../src/retrieval/eval/metrics.js';

const judged = new Map([
  ['a', 1],
  ['b', 1],
  ['z', 0],
]);

test('nDCG@k, recall@k and MRR@k follow the trec_eval definitions', () => {
  assert.equal(ndcgAt(['a', 'b', 'c'], judged, 10), 1);
  const dcg = 1 / Math.log2(3) + 1 / Math.log2(4);
  const idcg = 1 + 1 / Math.log2(3);
  assert.ok(Math.abs(ndcgAt(['c', 'a', 'b'], judged, 10) - dcg / idcg) < 1e-12);
  assert.equal(ndcgAt(['z', 'c'], judged, 10), 0);
  assert.equal(recallAt(['c', 'a'], judged, 10), 0.5);
  assert.equal(recallAt(['c', 'a', 'b'], judged, 2), 0.5);
  assert.equal(mrrAt(['c', 'z', 'b'], judged, 10), 1 / 3);
  assert.equal(mrrAt(['c', 'z', 'b'], judged, 2), 0);
});

test('percentiles use the nearest-rank method', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 95), 95);
  assert.equal(percentile([], 95), 0);
});
