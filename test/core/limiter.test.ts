import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdmissionRejected, ConcurrencyLimiter, admit } from '../../src/core/limiter.js';

test('admit: a full queue is 429 queue_full; too much queued work for the budget is 503 overloaded (too_slow)', () => {
  const now = 1000;
  const estimate = (waitMs: number, totalMs: number) => ({ waitMs, totalMs });
  assert.doesNotThrow(() => admit({ queued: 3, adding: 1, maxQueue: 4, estimate: estimate(5, 10), deadlineAt: now + 50, now }));
  assert.throws(
    () => admit({ queued: 4, adding: 1, maxQueue: 4, estimate: estimate(5, 10), now }),
    (err: AdmissionRejected) => err.reason === 'queue_full' && err.status === 429 && err.retryAfterS === 1,
  );
  assert.throws(
    () => admit({ queued: 1, adding: 1, maxQueue: 100, estimate: estimate(2500, 2600), deadlineAt: now + 100, now }),
    (err: AdmissionRejected) => err.reason === 'too_slow' && err.code === 'overloaded' && err.status === 503 && err.retryAfterS === 3,
  );
  // The queue timeout bounds the wait even without a deadline.
  assert.throws(() => admit({ queued: 1, adding: 1, maxQueue: 100, estimate: estimate(80, 90), maxWaitMs: 60, now }), (err: AdmissionRejected) => err.reason === 'too_slow');
  // Nothing observed yet: only the queue bound applies.
  assert.doesNotThrow(() => admit({ queued: 1, adding: 1, maxQueue: 100, estimate: undefined, deadlineAt: now + 1, now }));
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
