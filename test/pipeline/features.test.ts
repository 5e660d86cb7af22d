import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectRedisOrSkip } from '../support/redis.js';
import { loadConfig } from '../../src/config/load.js';
import { fileFeatureSource, redisFeatureSource } from '../../src/pipeline/stages/features.js';

const signal = new AbortController().signal;

test('file features: configured fields, with defaults for unknown users and missing fields', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-features-'));
  try {
    const file = join(dir, 'users.json');
    writeFileSync(file, JSON.stringify({ alice: { tier: 'pro', region: 'eu', secret: 'x' }, bob: { region: 'us' } }));
    const config = loadConfig({ env: {}, overrides: { features: { file, fields: ['tier', 'region'] } } }).features;
    const source = fileFeatureSource(config);
    assert.deepEqual(await source.get('alice', signal), { tier: 'pro', region: 'eu' });
    assert.deepEqual(await source.get('bob', signal), { tier: 'free', region: 'us' });
    assert.deepEqual(await source.get('nobody', signal), { tier: 'free' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Redis features: read from the hash pronto:user:<id>', async (t) => {
  const redis = await connectRedisOrSkip(t);
  if (!redis) return;
  const user = `features-test-${process.pid}`;
  try {
    await redis.hset(`pronto:user:${user}`, { tier: 'enterprise', other: 'ignored' });
    const source = redisFeatureSource(loadConfig({ env: {} }).features, redis);
    assert.deepEqual(await source.get(user, signal), { tier: 'enterprise' });
    assert.deepEqual(await source.get(`${user}-missing`, signal), { tier: 'free' });
  } finally {
    await redis.del(`pronto:user:${user}`);
    redis.disconnect();
  }
});
