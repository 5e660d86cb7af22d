import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TEST_REDIS_URL } from './redis.js';
import { REDIS_URL } from '../jobs/support/queues.js';

test('tests default to a Redis database other than 0 (where a developer keeps real data)', () => {
  const database = Number(new URL(DEFAULT_TEST_REDIS_URL).pathname.slice(1) || '0');
  assert.notEqual(database, 0);
  if (process.env.PRONTO_TEST_REDIS_URL === undefined) assert.equal(REDIS_URL, DEFAULT_TEST_REDIS_URL, 'the job tests use the same one');
});
