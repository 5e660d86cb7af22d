import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig, type DeepPartial } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { sleep } from '../../../src/core/deadline.js';
import { createJobQueue } from '../../../src/jobs/queue.js';
import type { JobHandlers, JobQueue } from '../../../src/jobs/types.js';
import { createMetrics, type Metrics } from '../../../src/observability/metrics.js';
import { TEST_REDIS_URL } from '../../support/redis.js';
import { createRedactor } from '../../../src/core/redact.js';

export const REDIS_URL = TEST_REDIS_URL;
export type Backend = 'memory' | 'redis';

/** Why Redis tests skip, or false when Redis answers. */
export async function redisUnavailable(): Promise<string | false> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
    return false;
  } catch (err) {
    return `Redis is not reachable at ${REDIS_URL} (${(err as Error).message}); start one to run these tests`;
  } finally {
    redis.disconnect();
  }
}

/** A config for tests: fast backoffs, callbacks to the local receiver allowed, a unique prefix. */
export function testConfig(backend: Backend, overrides: DeepPartial<Config['jobs']> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      redis_url: backend === 'redis' ? REDIS_URL : undefined,
      server: { shutdown_grace_ms: 2000 },
      jobs: {
        prefix: `test-jobs-${randomUUID().slice(0, 8)}`,
        concurrency: 2,
        backoff_ms: 20,
        timeout_ms: 5000,
        ...overrides,
        callbacks: { allow_private: true, backoff_ms: 20, secret: 'test-secret', ...overrides.callbacks },
      },
    },
  });
}

export interface TestQueue {
  queue: JobQueue;
  config: Config;
  metrics: Metrics;
  close(): Promise<void>;
}

/** A started queue on `backend`; close() also deletes its Redis keys. */
export async function startQueue(backend: Backend, handlers: JobHandlers, overrides: DeepPartial<Config['jobs']> = {}): Promise<TestQueue> {
  const config = testConfig(backend, overrides);
  const metrics = createMetrics({ defaultMetrics: false });
  const queue = createJobQueue(config, {
    metrics,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    handlers,
    redact: createRedactor(config.pii).redact,
  });
  await queue.startWorker();
  return {
    queue,
    config,
    metrics,
    async close() {
      await queue.close();
      if (config.redis_url) await deleteKeys(config.jobs.prefix);
    },
  };
}

export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
