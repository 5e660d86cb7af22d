import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const BIN = fileURLToPath(new URL('../../bin/pronto.js', import.meta.url));

test('pronto worker without REDIS_URL says what it needs and exits 2', () => {
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env.PRONTO_CONFIG;
  const run = spawnSync(process.execPath, [BIN, 'worker'], { env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /needs a Redis queue: set REDIS_URL/);
});
