import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';

/** The test Redis: 127.0.0.1:6379 unless PRONTO_TEST_REDIS_URL says otherwise. */
export const TEST_REDIS_URL = process.env.PRONTO_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

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
