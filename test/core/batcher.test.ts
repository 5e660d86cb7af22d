import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MicroBatcher, type BatcherOptions, type DropReason, type FlushReason } from '../../src/core/batcher.js';
import { createSim } from '../../src/models/backends/sim.js';
import type { Embedder } from '../../src/models/types.js';
import { modelConfig } from '../models/helpers.js';

/** A batcher over a `sim` embedder, recording every batch and drop. */
function simBatcher(sim: { base_ms?: number; per_item_ms?: number; fail?: boolean } = {}, options: Partial<BatcherOptions<string, Float32Array>> = {}) {
  const model = createSim(modelConfig({ name: 'sim', role: 'embedder', backend: 'sim', options: { base_ms: 2, per_item_ms: 0, dimensions: 4, ...sim } })) as Embedder;
  const batches: Array<{ size: number; reason: FlushReason; inputs?: string[] }> = [];
  const drops: Array<{ reason: DropReason; count: number }> = [];
  let depth = 0;
  let running = 0;
  let maxRunning = 0;
  const batcher = new MicroBatcher<string, Float32Array>({
    maxBatchSize: 8,
    maxWaitMs: 2,
    maxConcurrentBatches: 1,
    queueTimeoutMs: 5000,
    executionTimeoutMs: 5000,
    run: async (inputs, signal) => {
      batches[batches.length - 1].inputs = inputs;
      maxRunning = Math.max(maxRunning, ++running);
      try {
        return await model.embed(inputs, { signal });
      } finally {
        running--;
      }
    },
    observer: {
      batchStarted: ({ size, reason }) => batches.push({ size, reason }),
      dropped: (reason, count) => drops.push({ reason, count }),
      queueChanged: (delta) => (depth += delta),
    },
    ...options,
  });
  return { batcher, batches, drops, depth: () => depth, maxRunning: () => maxRunning };
}

const open = () => new AbortController().signal;
const texts = (n: number, prefix = 't') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test('batches items, not requests: one request of 20 items runs as 8 + 8 + 4, results in order', async () => {
  const { batcher, batches, depth } = simBatcher();
  const inputs = texts(20);
  const vectors = await batcher.submit(inputs, { signal: open() });
  assert.equal(vectors.length, 20);
  assert.deepEqual(batches.map((b) => b.size), [8, 8, 4]);
  assert.deepEqual(batches.flatMap((b) => b.inputs), inputs);
  assert.equal(depth(), 0);
});

test('a lone item on an idle model flushes at once (idle), without waiting for max_wait', async () => {
  // `idle` means: at the recent arrival rate (one item per 100 ms window) no peer is expected
  // within the wait left, so max_wait must stay under that window; 90 ms leaves the most room
  // for a loaded machine's late event-loop turn (a 5 s max_wait always waits: 'timeout').
  const { batcher, batches } = simBatcher({}, { maxWaitMs: 90 });
  await batcher.submit(['alone'], { signal: open() });
  assert.deepEqual(batches.map((b) => b.reason), ['idle']);
});

test('after a batch of several items, a lone arrival waits one event-loop turn for its peers', async () => {
  const { batcher, batches } = simBatcher({ base_ms: 0 }, { maxWaitMs: 50 });
  await batcher.submit(texts(3), { signal: open() });
  const first = batcher.submit(['back'], { signal: open() });
  assert.equal(batches.length, 1, 'not started synchronously');
  const second = batcher.submit(['also back'], { signal: open() });
  await Promise.all([first, second]);
  assert.deepEqual(batches.map((b) => b.size), [3, 2]);
});

test('past max_wait a batch starts inside submit, unless the model blocks the event loop', async () => {
  const plain = simBatcher({ base_ms: 0 }, { maxWaitMs: 0 });
  const a = plain.batcher.submit(['x'], { signal: open() });
  assert.equal(plain.batches.length, 1);
  const blocking = simBatcher({ base_ms: 0 }, { maxWaitMs: 0, blocksEventLoop: true });
  const b = blocking.batcher.submit(['x'], { signal: open() });
  assert.equal(blocking.batches.length, 0, 'waits one turn so requests already read can join');
  await Promise.all([a, b]);
  assert.equal(blocking.batches.length, 1);
});

test('a full batch flushes at once even with a long max_wait', async () => {
  const { batcher, batches } = simBatcher({}, { maxWaitMs: 60_000 });
  await Promise.all(texts(8).map((t) => batcher.submit([t], { signal: open() })));
  assert.deepEqual(batches.map((b) => [b.size, b.reason]), [[8, 'full']]);
});

test('while items keep arriving the batcher waits up to max_wait for a fuller batch (timeout)', async () => {
  const { batcher, batches } = simBatcher({}, { maxWaitMs: 1000, maxBatchSize: 64 });
  await Promise.all(texts(20).map((t) => batcher.submit([t], { signal: open() })));
  assert.deepEqual(batches.map((b) => [b.size, b.reason]), [[20, 'timeout']]);
});

test('items that arrive while the model is busy go together into the next batch', async () => {
  const { batcher, batches } = simBatcher({ base_ms: 20 }, { maxBatchSize: 64 });
  const first = batcher.submit(['first'], { signal: open() });
  await new Promise((resolve) => setImmediate(resolve));
  const rest = texts(10).map((t) => batcher.submit([t], { signal: open() }));
  await Promise.all([first, ...rest]);
  assert.deepEqual(batches.map((b) => b.size), [1, 10]);
});

test('max_concurrent_batches lets batches overlap; 1 keeps them serial', async () => {
  const serial = simBatcher({ base_ms: 5 });
  await Promise.all([serial.batcher.submit(texts(8), { signal: open() }), serial.batcher.submit(texts(8, 'u'), { signal: open() })]);
  assert.equal(serial.maxRunning(), 1);
  // A sim instance runs one call at a time, so overlap is observed on a plain timer-backed run.
  let running = 0;
  let peak = 0;
  const overlapping = new MicroBatcher<string, string>({
    maxBatchSize: 2,
    maxWaitMs: 0,
    maxConcurrentBatches: 2,
    queueTimeoutMs: 5000,
    executionTimeoutMs: 5000,
    run: async (inputs) => {
      peak = Math.max(peak, ++running);
      await new Promise((resolve) => setTimeout(resolve, 10));
      running--;
      return inputs;
    },
  });
  assert.deepEqual(await overlapping.submit(texts(6), { signal: open() }), texts(6));
  assert.equal(peak, 2);
});

test('an aborted request is dropped before its batch runs, and counted', async () => {
  const { batcher, batches, drops, depth } = simBatcher({ base_ms: 20 });
  const busy = batcher.submit(['busy'], { signal: open() });
  await new Promise((resolve) => setImmediate(resolve));
  const controller = new AbortController();
  const doomed = batcher.submit(['a', 'b', 'c'], { signal: controller.signal });
  controller.abort(new Error('client went away'));
  await assert.rejects(doomed, /client went away/);
  await busy;
  assert.deepEqual(drops, [{ reason: 'aborted', count: 3 }]);
  assert.equal(batches.flatMap((b) => b.inputs).includes('a'), false);
  assert.equal(depth(), 0);
});

test('items whose deadline passed while queued are dropped with deadline_exceeded', async () => {
  const { batcher, batches, drops } = simBatcher({ base_ms: 30 });
  const busy = batcher.submit(['busy'], { signal: open() });
  await new Promise((resolve) => setImmediate(resolve));
  const late = batcher.submit(['late', 'later'], { signal: open(), deadlineAt: performance.now() + 5 });
  await assert.rejects(late, (err: { code?: string }) => err.code === 'deadline_exceeded');
  await busy;
  assert.deepEqual(drops, [{ reason: 'deadline', count: 2 }]);
  assert.equal(batches.length, 1);
});

test('queue_timeout_ms drops items that wait too long even while the model is stuck', async () => {
  // Generous against a loaded machine: the busy item must start within 150 ms, the waiting one cannot.
  const { batcher, drops } = simBatcher({ base_ms: 1000 }, { queueTimeoutMs: 150 });
  const busy = batcher.submit(['busy'], { signal: open() });
  await new Promise((resolve) => setImmediate(resolve));
  await assert.rejects(batcher.submit(['waiting'], { signal: open() }), (err: { code?: string; retryAfterS?: number }) => err.code === 'overloaded' && err.retryAfterS === 1);
  assert.deepEqual(drops, [{ reason: 'queue_timeout', count: 1 }]);
  await busy;
});

test('a batch that overruns execution_timeout_ms fails its items and frees the slot', async () => {
  const { batcher } = simBatcher({ base_ms: 10_000 }, { executionTimeoutMs: 20 });
  await assert.rejects(batcher.submit(['stuck'], { signal: open() }), (err: { code?: string }) => err.code === 'upstream_failed');
  assert.equal(batcher.activeBatches, 0);
});

test('a model failure rejects every request in the batch', async () => {
  const { batcher } = simBatcher({ fail: true });
  const results = await Promise.allSettled([batcher.submit(['a'], { signal: open() }), batcher.submit(['b'], { signal: open() })]);
  assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'upstream_failed'));
});

test('the token budget caps a batch (token_budget) and always admits at least one item', async () => {
  const { batcher, batches } = simBatcher({}, { maxBatchSize: 64, maxWaitMs: 20, maxBatchTokens: 10, tokens: (t) => t.length });
  await batcher.submit(['aaaa', 'bbbb', 'cccc', 'dddddddddddddddd', 'e'], { signal: open() });
  assert.deepEqual(batches.map((b) => b.inputs), [['aaaa', 'bbbb'], ['cccc'], ['dddddddddddddddd'], ['e']]);
  assert.equal(batches[0].reason, 'token_budget');
});

test('estimate: nothing known at first; then queued batches ahead add wait, an idle empty model none', async () => {
  const { batcher } = simBatcher({ base_ms: 4, per_item_ms: 0 }, { maxBatchSize: 4 });
  assert.equal(batcher.estimate(1, 1), undefined);
  await batcher.submit(texts(8), { signal: open() });
  assert.equal(batcher.estimate(1, 1)!.waitMs, 0, 'idle with an empty queue: no wait, however slow batches were');
  assert.ok(batcher.idle);
  const busy = batcher.submit(texts(12, 'busy'), { signal: open() });
  assert.ok(!batcher.idle);
  const queuedWait = batcher.estimate(1, 1)!.waitMs;
  assert.ok(queuedWait >= 4, `two full batches queued behind a running one (got ${queuedWait})`);
  await busy;
});

test('close() rejects queued items with shutting_down', async () => {
  const { batcher } = simBatcher({ base_ms: 20 });
  const busy = batcher.submit(['busy'], { signal: open() });
  await new Promise((resolve) => setImmediate(resolve));
  const queued = batcher.submit(['queued'], { signal: open() });
  batcher.close();
  await assert.rejects(queued, (err: { code?: string }) => err.code === 'shutting_down');
  await busy;
});

test('interactive items go ahead of bulk items queued before them; bulk items keep their own longer queue timeout', async () => {
  const { batcher, batches } = simBatcher({ base_ms: 50 }, { maxBatchSize: 2, queueTimeoutMs: 60_000, bulkQueueTimeoutMs: 120_000 });
  const busy = batcher.submit(['busy'], { signal: open() });
  await new Promise((resolve) => setImmediate(resolve));
  const bulk = batcher.submit(texts(4, 'bulk'), { signal: open(), priority: 'bulk' });
  const query = batcher.submit(['query'], { signal: open() });
  assert.equal(batcher.queuedAhead('interactive'), 1);
  assert.equal(batcher.queuedAhead('bulk'), 5);
  await Promise.all([busy, bulk, query]);
  assert.deepEqual(
    batches.map((b) => b.inputs),
    [['busy'], ['query', 'bulk0'], ['bulk1', 'bulk2'], ['bulk3']],
  );
});

test('a bulk item outlives the interactive queue timeout while it waits behind queries', async () => {
  const { batcher, drops } = simBatcher({ base_ms: 400 }, { maxBatchSize: 1, queueTimeoutMs: 150, bulkQueueTimeoutMs: 60_000 });
  const busy = batcher.submit(['busy'], { signal: open() });
  await new Promise((resolve) => setImmediate(resolve));
  const bulk = batcher.submit(['bulk'], { signal: open(), priority: 'bulk' });
  const query = batcher.submit(['query'], { signal: open() });
  await assert.rejects(query, (err: { code?: string }) => err.code === 'overloaded');
  assert.equal((await bulk).length, 1, 'the bulk item waited ~400 ms, past the 150 ms interactive timeout, and ran');
  await busy;
  assert.deepEqual(drops, [{ reason: 'queue_timeout', count: 1 }]);
});
