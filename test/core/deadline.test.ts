import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deadline, raceAbort, sleep } from '../../src/core/deadline.js';
import { ProntoError } from '../../src/core/errors.js';

test('a deadline aborts its signal with deadline_exceeded when it passes', async () => {
  const deadline = new Deadline(5);
  await assert.rejects(sleep(1000, deadline.signal), (err: unknown) => (err as ProntoError).code === 'deadline_exceeded');
  assert.equal(deadline.expired, true);
});

test('cancel aborts with cancelled, and stage scopes follow their parent', async () => {
  const deadline = new Deadline(10_000);
  const scope = deadline.scope(5_000);
  deadline.cancel();
  assert.equal(scope.signal.aborted, true);
  assert.equal((scope.signal.reason as ProntoError).code, 'cancelled');
  assert.equal(scope.overran, false);
});

test('a stage scope overruns on its own budget without aborting the request', async () => {
  const deadline = new Deadline(10_000);
  const scope = deadline.scope(5);
  await assert.rejects(raceAbort(sleep(1000), scope.signal));
  assert.equal(scope.overran, true);
  assert.equal(deadline.expired, false);
  deadline.dispose();
});

test('racing a promise against an already aborted signal leaves no unhandled rejection behind', async () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    const deadline = new Deadline(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The work a late stage starts with the aborted signal rejects with its reason, after the race.
    const work = Promise.resolve().then(() => Promise.reject(deadline.signal.reason));
    await assert.rejects(raceAbort(work, deadline.signal), (err: unknown) => (err as ProntoError).code === 'deadline_exceeded');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', record);
  }
});
