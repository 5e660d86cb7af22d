import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdmissionRejected, ConcurrencyLimiter, admit } from '../../src/core/limiter.js';

test('admit: a full queue is 429 queue_full, more work than the budget is 503 overloaded (too_slow)', () => {
  const now = 1000;
  assert.doesNotThrow(() => admit({ queued: 3, adding: 1, maxQueue: 4, estimateMs: 10, deadlineAt: now + 50, now }));
  assert.throws(
    () => admit({ queued: 4, adding: 1, maxQueue: 4, estimateMs: 10, now }),
    (err: AdmissionRejected) => err.reason === 'queue_full' && err.status === 429 && err.retryAfterS === 1,
  );
  assert.throws(
    () => admit({ queued: 1, adding: 1, maxQueue: 100, estimateMs: 2500, deadlineAt: now + 100, now }),
    (err: AdmissionRejected) => err.reason === 'too_slow' && err.code === 'overloaded' && err.status === 503 && err.retryAfterS === 3,
  );
  // Nothing observed yet, or no deadline: only the queue bound applies.
  assert.doesNotThrow(() => admit({ queued: 1, adding: 1, maxQueue: 100, estimateMs: undefined, deadlineAt: now + 1, now }));
});

test('the limiter grants slots in order, queues within bounds and rejects past them', async () => {
  const limiter = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 1 });
  const signal = new AbortController().signal;
  const first = await limiter.acquire({ signal });
  const order: string[] = [];
  const second = limiter.acquire({ signal }).then((release) => (order.push('second'), release));
  assert.throws(() => limiter.acquire({ signal }), (err: AdmissionRejected) => err.reason === 'queue_full');
  first();
  (await second)();
  assert.deepEqual(order, ['second']);
  assert.equal(limiter.running, 0);
});

test('an aborted waiter leaves the queue', async () => {
  const limiter = new ConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 4 });
  const release = await limiter.acquire({ signal: new AbortController().signal });
  const controller = new AbortController();
  const waiting = limiter.acquire({ signal: controller.signal });
  controller.abort(new Error('gone'));
  await assert.rejects(waiting, /gone/);
  assert.equal(limiter.waiting, 0);
  release();
});
