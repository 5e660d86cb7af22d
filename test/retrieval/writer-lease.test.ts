import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { isProntoError } from '../../src/core/errors.js';
import { RedisWriteLease } from '../../src/retrieval/writer-lease.js';
import { connectRedisOrSkip } from '../support/redis.js';
import { silentLogger } from './helpers.js';

test('the write lease: one holder at a time across clients, a waiter refused with a retryable 503 after waitMs, the key freed after', async (t) => {
  const redis = await connectRedisOrSkip(t);
  if (!redis) return;
  const other = redis.duplicate();
  const prefix = `test-lease-${randomUUID()}`;
  t.after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    other.disconnect();
  });
  const options = { prefix, ttlMs: 10_000, waitMs: 10_000, logger: silentLogger };
  const one = new RedisWriteLease(redis, options);
  const two = new RedisWriteLease(other, options);

  const events: string[] = [];
  let release!: () => void;
  const holding = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const first = one.hold(async () => {
    events.push('one in');
    entered();
    await holding;
    events.push('one out');
  });
  await inside;
  // A waiter that gives up first: refused as retryable overload, the holder untouched.
  const impatient = new RedisWriteLease(other, { ...options, waitMs: 50 });
  await assert.rejects(impatient.hold(async () => events.push('impatient in')), (err: unknown) => isProntoError(err) && err.code === 'overloaded' && err.status === 503);
  const second = two.hold(async () => {
    events.push('two in');
  });
  release();
  await Promise.all([first, second]);
  assert.deepEqual(events, ['one in', 'one out', 'two in'], 'the second writer ran only after the first released');
  assert.equal(await redis.get(`${prefix}:pronto:index-lease`), null, 'released');
  assert.equal(Number(await redis.get(`${prefix}:pronto:index-fence`)), 3, 'each attempt drew a larger fencing token');
});
