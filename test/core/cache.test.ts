import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectRedisOrSkip } from '../support/redis.js';
import { TieredCache, float32Codec, type CacheResult, type RedisLike } from '../../src/core/cache.js';

function tracked(redis?: RedisLike, timeoutMs = 50) {
  const results: CacheResult[] = [];
  const cache = new TieredCache<Float32Array>({
    name: 'test',
    maxEntries: 10,
    redis: redis ? { client: redis, prefix: `pronto:test-cache:${process.pid}:`, ttlMs: 60_000, codec: float32Codec, timeoutMs } : undefined,
    onLookup: (_name, result) => results.push(result),
  });
  return { cache, results };
}

test('memory tier: a miss, then a hit; LRU bound', async () => {
  const { cache, results } = tracked();
  assert.equal(await cache.get('a'), undefined);
  cache.set('a', Float32Array.of(1, 2));
  assert.deepEqual(await cache.get('a'), Float32Array.of(1, 2));
  for (let i = 0; i < 20; i++) cache.set(`k${i}`, Float32Array.of(i));
  assert.equal(await cache.get('a'), undefined, 'evicted');
  assert.deepEqual(results, ['miss', 'hit_memory', 'miss']);
});

test('Redis tier: one replica writes, another reads it back exactly', async (t) => {
  const redis = await connectRedisOrSkip(t);
  if (!redis) return;
  try {
    const a = tracked(redis);
    const b = tracked(redis);
    const vector = Float32Array.of(0.25, -1.5, 3e-8);
    a.cache.set('shared', vector);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the write is fire-and-forget
    assert.deepEqual(await b.cache.get('shared'), vector);
    assert.deepEqual(await b.cache.get('shared'), vector);
    assert.deepEqual(b.results, ['hit_redis', 'hit_memory']);
  } finally {
    await redis.del(`pronto:test-cache:${process.pid}:shared`);
    redis.disconnect();
  }
});

test('a slow or failing Redis counts as a miss, never an error', async () => {
  const stuck: RedisLike = { getBuffer: () => new Promise(() => undefined), set: async () => 'OK' };
  const broken: RedisLike = { getBuffer: async () => Promise.reject(new Error('down')), set: async () => Promise.reject(new Error('down')) };
  for (const redis of [stuck, broken]) {
    const { cache, results } = tracked(redis, 5);
    assert.equal(await cache.get('x'), undefined);
    cache.set('x', Float32Array.of(1));
    assert.deepEqual(results, ['miss']);
  }
});
