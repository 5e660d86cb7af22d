import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { isProntoError } from '../../src/core/errors.js';
import { createRedisJobQueue } from '../../src/jobs/redis-queue.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { jobQueueContract } from './support/contract.js';
import { testConfig } from './support/queues.js';

// Against the real Redis (database 15 of 127.0.0.1:6379, or PRONTO_TEST_REDIS_URL); each test has its own prefix.
jobQueueContract('redis');

test('with Redis down, submit and poll fail fast with a 503 store_unavailable instead of hanging', async () => {
  const config = testConfig('redis');
  config.redis_url = 'redis://127.0.0.1:1';
  const queue = createRedisJobQueue(config, { metrics: createMetrics({ defaultMetrics: false }), logger: pino({ level: 'silent' }) });
  try {
    const isDown = (err: unknown) =>
      isProntoError(err) && err.code === 'store_unavailable' && err.status === 503 && err.retryAfterS !== undefined;
    await assert.rejects(queue.submit({ tenant: 't', kind: 'embed', input: {} }), isDown);
    await assert.rejects(queue.get('t', '00000000-0000-4000-8000-000000000000'), isDown);
  } finally {
    await queue.close();
  }
});
