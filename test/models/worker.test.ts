import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashVector } from '../../src/models/backends/sim.js';
import { modelConfig, never, startRuntime } from './helpers.js';

test('worker: true runs an embedder in a worker thread with the same answers', async () => {
  const { runtime } = await startRuntime([
    modelConfig({ name: 'threaded', role: 'embedder', backend: 'sim', worker: true, options: { base_ms: 1, per_item_ms: 0, dimensions: 8 }, warmup: { batch_sizes: [1, 4] } }),
  ]);
  try {
    const embedder = runtime.embedder('threaded');
    assert.equal(embedder.dimensions, 8);
    const vectors = await embedder.embed(['a', 'b'], { signal: never() });
    assert.deepEqual(vectors.map((v) => [...v]), [[...hashVector('a', 8)], [...hashVector('b', 8)]]);
    const controller = new AbortController();
    const aborted = embedder.embed(['c'], { signal: controller.signal });
    controller.abort(new Error('gone'));
    await assert.rejects(aborted, /gone/);
  } finally {
    await runtime.close();
  }
});

test('a backend that fails to load in the worker fails start with its reason', async () => {
  await assert.rejects(
    startRuntime([modelConfig({ name: 'bad', role: 'embedder', backend: 'sim', worker: true, options: { base_ms: -1 }, warmup: { batch_sizes: [] } })]),
    /worker could not load it/,
  );
});
