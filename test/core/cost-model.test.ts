import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchCostModel } from '../../src/core/cost-model.js';

test('fits base + per-item cost from batches of different sizes', () => {
  const model = new BatchCostModel();
  assert.equal(model.estimate(10), undefined);
  for (const size of [1, 64, 8, 32, 1, 16]) model.observe(size, 4 + 0.5 * size);
  assert.ok(Math.abs(model.estimate(64)! - 36) < 1e-6);
  assert.ok(Math.abs(model.estimate(1)! - 4.5) < 1e-6);
});

test('one batch size seen: a flat cost; recent batches weigh most', () => {
  const model = new BatchCostModel(0.5);
  model.observe(1, 4.5);
  assert.equal(model.estimate(64), 4.5);
  for (let i = 0; i < 20; i++) model.observe(1, 50);
  assert.ok(model.estimate(1)! > 49, 'a model that slowed down is noticed');
});
