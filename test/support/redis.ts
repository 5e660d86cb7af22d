import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';

/**
 * The test Redis: database 15 of 127.0.0.1:6379 unless PRONTO_TEST_REDIS_URL says otherwise. Not
 * database 0, where a developer's own data usually lives: tests write and delete keys.
 */
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379/15';
export const TEST_REDIS_URL = process.env.PRONTO_TEST_REDIS_URL ?? DEFAULT_TEST_REDIS_URL;

/** A connected client, or undefined after marking the test skipped when no Redis answers. */
export async function connectRedisOrSkip(t: TestContext): Promise<Redis | undefined> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return redis;
  } catch {
    redis.disconnect();
    t.skip(`no Redis at ${TEST_REDIS_URL} (the README says how to start one)`);
    return undefined;
  }
}

/**
 * A key prefix of its own for one test file's servers (`jobs.prefix` and `cache.prefix` take it),
 * so their keys in the shared test database are theirs alone and `deleteKeysUnder` removes them all.
 */
export function scratchPrefix(name: string): string {
  return `pronto-test-${name}-${process.pid}-${Date.now()}`;
}

/** Deletes every key under `prefix` (a test's scratch prefix) from the test Redis. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}

/**
 * The test Redis and a scratch prefix for one test: after it, the keys under the prefix are
 * deleted and the client disconnects. Undefined (the test marked skipped) when no Redis answers.
 */
export async function scratchRedisOrSkip(t: TestContext, name: string): Promise<{ redis: Redis; prefix: string } | undefined> {
  const redis = await connectRedisOrSkip(t);
  if (!redis) return undefined;
  const prefix = scratchPrefix(name);
  t.after(async () => {
    await deleteKeysUnder(redis, prefix);
    redis.disconnect();
  });
  return { redis, prefix };
}
