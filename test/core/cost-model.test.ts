import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchCostModel } from '../../src/core/cost-model.js';

test('fits base + per-unit cost from batches of different sizes', () => {
  const model = new BatchCostModel();
  assert.equal(model.estimate(10), undefined);
  for (const units of [1, 64, 8, 32, 1, 16]) model.observe(units, 4 + 0.5 * units);
  assert.ok(Math.abs(model.estimate(64)! - 36) < 1e-6);
  assert.ok(Math.abs(model.estimate(1)! - 4.5) < 1e-6);
});

test('one batch size seen: a cost proportional to units; recent batches weigh most', () => {
  const model = new BatchCostModel(0.5);
  model.observe(10, 5);
  assert.equal(model.estimate(20), 10);
  for (let i = 0; i < 20; i++) model.observe(10, 500);
  assert.ok(model.estimate(10)! > 490, 'a model that slowed down is noticed');
});

test('one outlier batch moves the estimate by a bounded step (cost-model poisoning)', () => {
  const model = new BatchCostModel();
  for (const units of [4, 64, 16, 32, 8]) model.observe(units, 2 + 0.1 * units);
  const before = model.estimate(16)!;
  // One pathological batch: 16 units that took 16 s (a stalled host, a huge input mis-counted).
  model.observe(16, 16_000);
  const after = model.estimate(16)!;
  assert.ok(after < before * 4, `one outlier may at most quadruple the estimate (${before} -> ${after})`);
  // Fresh, normal measurements pull it back.
  for (let i = 0; i < 10; i++) model.observe(16, 2 + 0.1 * 16);
  assert.ok(model.estimate(16)! < before * 1.5, `recovered to ${model.estimate(16)} (was ${before})`);
});
