import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { Deadline, raceAbort, sleep } from '../../src/core/deadline.js';
import { ProntoError } from '../../src/core/errors.js';

test('a deadline aborts its signal with deadline_exceeded when it passes', async () => {
  const deadline = new Deadline(5);
  await assert.rejects(sleep(1000, deadline.signal), (err: unknown) => (err as ProntoError).code === 'deadline_exceeded');
  assert.equal(deadline.expired, true);
});

test('the signal is made when first asked for: until then no timer; then aborted if the deadline passed, a cancel came or the parent aborted', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  const before = timers();
  const unasked = new Deadline(10_000);
  assert.equal(timers(), before, 'a deadline nobody asked for a signal holds no timer');
  assert.equal(unasked.signal.aborted, false);
  assert.equal(timers(), before + 1, 'its signal, once made, aborts on its own timer');
  unasked.dispose();

  const passed = new Deadline(1);
  await sleep(5);
  assert.equal((passed.signal.reason as ProntoError).code, 'deadline_exceeded');
  const cancelled = new Deadline(10_000);
  cancelled.cancel();
  assert.equal((cancelled.signal.reason as ProntoError).code, 'cancelled');
  const parent = new AbortController();
  const child = new Deadline(10_000, parent.signal);
  parent.abort(new ProntoError('cancelled'));
  assert.equal(child.expired, true);

  const done = new Deadline(10_000);
  done.dispose();
  // Counted afresh: other test files run in this process, and their timers came and went during the awaits above.
  const beforeLate = timers();
  assert.equal(done.signal.aborted, false);
  assert.equal(timers(), beforeLate, 'asked for after dispose (late work): a signal that holds nothing');
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

/** Waits for the signal to abort and answers its reason's code. */
const abortCode = (signal: AbortSignal) =>
  new Promise<string>((resolve) => {
    const code = () => resolve((signal.reason as ProntoError).code);
    if (signal.aborted) code();
    else signal.addEventListener('abort', code, { once: true });
  });

test("a stage scope whose budget reaches the request's end follows the request: it never overruns", async () => {
  // Scopes made at different points of a short deadline, each asking for more than is left: with
  // a timer of their own for (about) the same instant as the request's, some fired first and read
  // as a stage overrun. Following the request, every one ends as the request does.
  const deadline = new Deadline(200);
  const scopes = [];
  for (let i = 0; i < 8 && deadline.remainingMs() > 10; i++) {
    scopes.push(deadline.scope(60_000), deadline.scope(deadline.remainingMs()));
    await sleep(3);
  }
  const ends = await Promise.all(scopes.map((scope) => abortCode(scope.signal)));
  assert.equal(deadline.expired, true);
  assert.deepEqual(
    scopes.map((scope) => scope.overran),
    scopes.map(() => false),
  );
  assert.deepEqual(ends, ends.map(() => 'deadline_exceeded'));
  for (const scope of scopes) assert.equal(scope.at, deadline.at, 'it ends where the request does');
});

test('a child deadline shorter than its parent has its own end; one reaching it follows the parent', async () => {
  const parent = new Deadline(60_000);
  const short = parent.child(5);
  assert.ok(short.at < parent.at);
  assert.equal(await abortCode(short.signal), 'deadline_exceeded');
  assert.equal(parent.expired, false);

  const long = parent.child(Infinity);
  assert.equal(long.at, parent.at);
  parent.cancel();
  assert.equal(long.signal.aborted, true);
  assert.equal((long.signal.reason as ProntoError).code, 'cancelled');
  parent.dispose();
});

test('a following deadline ends with its parent scope, whatever the scope ends by', async () => {
  const request = new Deadline(60_000);
  const scope = request.scope(5);
  const inner = Deadline.following(scope);
  assert.equal(inner.at, scope.at);
  assert.equal(await abortCode(inner.signal), 'deadline_exceeded');
  assert.equal(scope.overran, true, 'the scope ran out; the inner deadline had no timer to race it');
  request.dispose();
  scope.dispose();
});

test('a disposed deadline leaves no listener on its parent signal, however many were made on it', () => {
  const parent = new AbortController();
  const request = new Deadline(60_000);
  for (let i = 0; i < 100; i++) {
    new Deadline(1_000, parent.signal).dispose();
    request.child(1_000).dispose();
    Deadline.following(request).dispose();
  }
  assert.equal(getEventListeners(parent.signal, 'abort').length, 0);
  assert.equal(getEventListeners(request.signal, 'abort').length, 0);
  // A live one still follows its parent.
  const live = new Deadline(1_000, parent.signal);
  parent.abort(new ProntoError('cancelled'));
  assert.equal((live.signal.reason as ProntoError).code, 'cancelled');
  live.dispose();
  request.dispose();
});
