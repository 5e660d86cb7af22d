import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deferred } from '../../src/core/deferred.js';
import { WriteBehind } from '../../src/core/write-behind.js';

test('items wait up to the delay and are written together; flush writes at once', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const batches: string[][] = [];
  const writes = new WriteBehind<string>(10, async (items) => void batches.push(items));
  const added = [writes.add('a'), writes.add('b')];
  assert.deepEqual(writes.waiting, ['a', 'b']);
  t.mock.timers.tick(9);
  await Promise.resolve();
  assert.deepEqual(batches, [], 'nothing before the delay');
  t.mock.timers.tick(1);
  await Promise.all(added);
  assert.deepEqual(batches, [['a', 'b']]);
  assert.deepEqual(writes.waiting, []);

  const c = writes.add('c');
  await writes.flush();
  await c;
  assert.deepEqual(batches, [['a', 'b'], ['c']], 'flush does not wait for the delay');
});

test('a write never overlaps the one before: what arrives meanwhile waits and goes next, together', async () => {
  const first = deferred<void>();
  const batches: string[][] = [];
  let running = 0;
  const writes = new WriteBehind<string>(1_000, async (items) => {
    assert.equal(running++, 0, 'writes overlapped');
    batches.push(items);
    if (batches.length === 1) await first.promise;
    running--;
  });
  void writes.add('a');
  void writes.flush();
  await Promise.resolve();
  void writes.add('b');
  void writes.add('c');
  const flushed = writes.flush();
  assert.deepEqual(writes.waiting, ['b', 'c'], 'still waiting while the first write runs');
  first.resolve();
  await flushed;
  assert.deepEqual(batches, [['a'], ['b', 'c']]);
});

test("a failed write fails its batch's items only; the next batch is written", async () => {
  const writes = new WriteBehind<string>(1_000, async (items) => {
    if (items.includes('bad')) throw new Error('disk full');
  });
  const failed = writes.add('bad');
  await writes.flush();
  await assert.rejects(failed, /disk full/);
  const next = writes.add('good');
  await writes.flush();
  await next;
});
