import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashVector } from '../../src/models/backends/sim.js';
import { modelConfig, never, startRuntime } from './helpers.js';

const pooled = (options: Record<string, unknown> = {}, threads = 2) =>
  modelConfig({
    name: 'pooled',
    role: 'embedder',
    backend: 'sim',
    worker: true,
    worker_threads: threads,
    options: { base_ms: 1, per_item_ms: 0, dimensions: 8, ...options },
    warmup: { batch_sizes: [1, 4] },
  });

test('worker: true runs an embedder in a pool of worker threads with the same answers', async () => {
  const { runtime } = await startRuntime([pooled()]);
  try {
    const embedder = runtime.embedder('pooled');
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

test('a thread that dies mid-batch fails that batch clearly and the pool recovers', async () => {
  const { runtime } = await startRuntime([pooled({ exit_thread_on: 'crash here' }, 1)]);
  try {
    const embedder = runtime.embedder('pooled');
    await assert.rejects(embedder.embed(['fine', 'crash here'], { signal: never() }), (err: { code?: string; message: string }) => {
      return err.code === 'upstream_failed' && /worker thread failed during the batch/.test(err.message);
    });
    // The one thread was replaced: later batches are served.
    for (let i = 0; i < 3; i++) {
      const [vector] = await embedder.embed([`after ${i}`], { signal: never() });
      assert.deepEqual([...vector], [...hashVector(`after ${i}`, 8)]);
    }
  } finally {
    await runtime.close();
  }
});

test('a backend that fails to load in the pool fails start with its reason', async () => {
  await assert.rejects(startRuntime([pooled({ base_ms: -1 })]), /worker pool could not load it/);
});
