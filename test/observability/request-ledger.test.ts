import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequestLedger } from '../../src/observability/request-ledger.js';
import { scratchRedisOrSkip } from '../support/redis.js';

const DAY = { ttlS: 86_400 };

test('the Redis ledger writes a batch in one pipeline, serves waiting entries from memory, and another replica finds them', async (t) => {
  const scratch = await scratchRedisOrSkip(t, 'ledger');
  if (!scratch) return;
  const { redis, prefix } = scratch;
  const other = redis.duplicate();
  t.after(() => other.disconnect());
  const pipelines = t.mock.method(redis, 'pipeline');
  const sets = t.mock.method(redis, 'set');

  const replicaA = createRequestLedger({ redis, prefix }, DAY);
  const replicaB = createRequestLedger({ redis: other, prefix }, DAY);
  const written = ['r1', 'r2', 'r3'].map((id) => replicaA.remember('alpha', id, 'canary'));
  // Before the batch is written: this replica answers from memory, Redis holds nothing yet.
  assert.equal(await replicaA.variantOf('alpha', 'r2'), 'canary');
  assert.equal(await redis.exists(`${prefix}:request:alpha:r2`), 0);
  await Promise.all(written);
  assert.equal(pipelines.mock.callCount(), 1, 'the three entries went in one pipeline');
  assert.equal(sets.mock.callCount(), 0, 'no command of their own');
  assert.equal(await redis.exists(`${prefix}:request:alpha:r1`, `${prefix}:request:alpha:r2`, `${prefix}:request:alpha:r3`), 3);
  const ttl = await redis.ttl(`${prefix}:request:alpha:r3`);
  assert.ok(ttl > 86_000 && ttl <= 86_400, `kept for a day (ttl ${ttl} s)`);
  // Another replica, and another tenant.
  assert.equal(await replicaB.variantOf('alpha', 'r1'), 'canary');
  assert.equal(await replicaB.variantOf('beta', 'r1'), undefined);
  // A rating that reaches replica B while A's batch still waits finds it on B's second read.
  void replicaA.remember('alpha', 'r4', 'control');
  assert.equal(await replicaB.variantOf('alpha', 'r4'), 'control');
});

test('flush writes the waiting entries at once; a failed write rejects their promise', async (t) => {
  const scratch = await scratchRedisOrSkip(t, 'ledger-flush');
  if (!scratch) return;
  const { redis, prefix } = scratch;
  const ledger = createRequestLedger({ redis, prefix }, DAY);
  const remembered = ledger.remember('alpha', 'r1', 'default');
  await ledger.flush();
  await remembered;
  assert.equal(await redis.get(`${prefix}:request:alpha:r1`), 'default');
  // A flush with nothing waiting still waits for the batch in flight.
  let written = false;
  void ledger.remember('alpha', 'r2', 'default').then(() => (written = true));
  void ledger.flush();
  await ledger.flush();
  assert.ok(written, 'the second flush returned before the batch sent by the first was written');

  const closed = redis.duplicate({ lazyConnect: true });
  closed.disconnect();
  await assert.rejects(createRequestLedger({ redis: closed, prefix }, DAY).remember('alpha', 'r2', 'default'), /closed/);
});

test('an entry is kept for ratable_for_s: in Redis as its TTL, in memory until it expires', async (t) => {
  const scratch = await scratchRedisOrSkip(t, 'ledger-ttl');
  if (!scratch) return;
  const { redis, prefix } = scratch;
  await createRequestLedger({ redis, prefix }, { ttlS: 90 }).remember('alpha', 'r1', 'default');
  const ttl = await redis.ttl(`${prefix}:request:alpha:r1`);
  assert.ok(ttl > 85 && ttl <= 90, `ttl ${ttl} s`);

  const inMemory = createRequestLedger(undefined, { ttlS: 1 });
  await inMemory.remember('alpha', 'r1', 'default');
  assert.equal(await inMemory.variantOf('alpha', 'r1'), 'default');
  await sleep(1_100);
  assert.equal(await inMemory.variantOf('alpha', 'r1'), undefined);
});
