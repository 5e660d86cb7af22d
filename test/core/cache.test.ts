import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectRedisOrSkip } from '../support/redis.js';
import { TieredCache, float32Codec, type CacheResult, type RedisLike } from '../../src/core/cache.js';
import { createRedisGuard } from '../../src/core/redis-guard.js';
import { deferred } from '../../src/core/deferred.js';

const RUN = `pronto:test-cache:${process.pid}:${Date.now()}:`;

function tracked(options: { redis?: RedisLike; timeoutMs?: number; memoryBytes?: number; failures?: number } = {}) {
  const results: CacheResult[] = [];
  const evictions: string[] = [];
  const guard = createRedisGuard({ timeoutMs: options.timeoutMs ?? 1000, failureThreshold: options.failures ?? 3, halfOpenAfterMs: 60_000 });
  const cache = new TieredCache<Float32Array>({
    name: 'test',
    memoryBytes: options.memoryBytes ?? 1024,
    ttlMs: 60_000,
    codec: float32Codec,
    redis: options.redis ? { client: options.redis, guard, prefix: RUN } : undefined,
    onLookup: (_name, result) => results.push(result),
    onEvict: (_name, reason) => evictions.push(reason),
  });
  return { cache, results, evictions };
}

async function valueOf(cache: TieredCache<Float32Array>, key: string) {
  const found = await cache.lookup(key);
  if (found.hit) return found.value;
  found.fill(undefined);
  return undefined;
}

test('memory tier: a miss, then a hit; bounded by bytes, the least recent evicted and counted', async () => {
  const { cache, results, evictions } = tracked({ memoryBytes: 200 });
  assert.equal(await valueOf(cache, 'a'), undefined);
  cache.set('a', Float32Array.of(1, 2));
  assert.deepEqual(await valueOf(cache, 'a'), Float32Array.of(1, 2));
  // Each value is 40 bytes + its key: the 200-byte tier holds four.
  for (let i = 0; i < 10; i++) cache.set(`k${i}`, new Float32Array(10).fill(i));
  assert.equal(await valueOf(cache, 'a'), undefined, 'evicted');
  assert.ok(cache.memoryBytes <= 200, `${cache.memoryBytes} bytes held`);
  assert.deepEqual(results, ['miss', 'hit_memory', 'miss']);
  assert.ok(evictions.length >= 7 && evictions.every((r) => r === 'evict'), evictions.join());
});

test('single flight: concurrent misses of one key compute once, and all get the value', async () => {
  const { cache, results } = tracked();
  let computed = 0;
  const gate = deferred<void>();
  const compute = async () => {
    computed++;
    await gate.promise;
    return Float32Array.of(7);
  };
  const callers = Array.from({ length: 5 }, () => cache.getOrCompute('same', compute));
  await new Promise((resolve) => setImmediate(resolve));
  gate.resolve();
  const answers = await Promise.all(callers);
  assert.equal(computed, 1);
  assert.deepEqual(
    answers.map((a) => a.tier),
    [undefined, 'in_flight', 'in_flight', 'in_flight', 'in_flight'],
  );
  assert.deepEqual(results.sort(), ['hit_in_flight', 'hit_in_flight', 'hit_in_flight', 'hit_in_flight', 'miss']);
});

test('single flight: when the computation fails, a waiter computes its own', async () => {
  const { cache } = tracked();
  const first = cache.getOrCompute('k', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('model down');
  });
  const second = cache.getOrCompute('k', async () => Float32Array.of(3));
  await assert.rejects(first, /model down/);
  assert.deepEqual((await second).value, Float32Array.of(3));
});

test('Redis tier: one replica writes, another reads it back exactly', async (t) => {
  const redis = await connectRedisOrSkip(t);
  if (!redis) return;
  try {
    const a = tracked({ redis });
    const b = tracked({ redis });
    const vector = Float32Array.of(0.25, -1.5, 3e-8);
    a.cache.set('shared', vector);
    for (let i = 0; i < 100 && !(await redis.exists(`${RUN}shared`)); i++) await new Promise((resolve) => setTimeout(resolve, 10)); // the write is fire-and-forget
    assert.deepEqual(await valueOf(b.cache, 'shared'), vector);
    assert.deepEqual(await valueOf(b.cache, 'shared'), vector);
    assert.deepEqual(b.results, ['hit_redis', 'hit_memory']);
  } finally {
    await redis.del(`${RUN}shared`);
    redis.disconnect();
  }
});

test('a slow or failing Redis counts as a miss, never an error; after a run of failures the circuit skips it', async () => {
  let calls = 0;
  const stuck: RedisLike = {
    getBuffer: () => (calls++, new Promise(() => undefined)),
    mgetBuffer: () => (calls++, new Promise(() => undefined)),
    get: () => new Promise(() => undefined),
    set: async () => 'OK',
  };
  const broken: RedisLike = {
    getBuffer: async () => (calls++, Promise.reject(new Error('down'))),
    mgetBuffer: async () => (calls++, Promise.reject(new Error('down'))),
    get: async () => Promise.reject(new Error('down')),
    set: async () => Promise.reject(new Error('down')),
  };
  for (const redis of [stuck, broken]) {
    calls = 0;
    const { cache, results } = tracked({ redis, timeoutMs: 5, failures: 3 });
    for (let i = 0; i < 6; i++) assert.equal(await valueOf(cache, `x${i}`), undefined);
    cache.set('y', Float32Array.of(1));
    assert.deepEqual(await valueOf(cache, 'y'), Float32Array.of(1), 'memory still serves');
    assert.deepEqual(results, ['miss', 'miss', 'miss', 'miss', 'miss', 'miss', 'hit_memory']);
    assert.equal(calls, 3, 'the circuit opened after three failures: Redis was not called again');
  }
});

/** A real client whose calls are counted by method: each call is one round trip. */
function counting(redis: RedisLike) {
  const calls: string[] = [];
  const client: RedisLike = {
    getBuffer: (key) => (calls.push('getBuffer'), redis.getBuffer(key)),
    mgetBuffer: (...keys) => (calls.push('mgetBuffer'), redis.mgetBuffer(...keys)),
    get: (key) => (calls.push('get'), redis.get(key)),
    set: ((...args: Parameters<RedisLike['set']>) => (calls.push('set'), (redis.set as (...a: unknown[]) => Promise<unknown>)(...args))) as RedisLike['set'],
  };
  return { client, calls };
}

test('versioned Redis tier: a hit is one round trip (version and value in one MGET); a value of another version is never served', async (t) => {
  const redis = await connectRedisOrSkip(t);
  if (!redis) return;
  const versionKey = `${RUN}version`;
  const reads: number[] = [];
  // `read` is the version read on its own (the change feed's connection in pronto): counted apart.
  const source = { redisKey: versionKey, read: async () => (reads.push(1), Number((await redis.get(versionKey)) ?? 0)) };
  try {
    await redis.set(versionKey, '3');
    const writer = tracked({ redis });
    const miss = await writer.cache.lookupAt('v', source);
    assert.ok(miss && !miss.hit && miss.version === 3);
    miss.fill(Float32Array.of(3));
    for (let i = 0; i < 100 && !(await redis.exists(`${RUN}v`)); i++) await new Promise((resolve) => setTimeout(resolve, 10));

    // Another replica, nothing in memory: one command reads both.
    const counted = counting(redis);
    const reader = tracked({ redis: counted.client });
    const hit = await reader.cache.lookupAt('v', source);
    assert.ok(hit?.hit && hit.tier === 'redis' && hit.version === 3);
    assert.deepEqual(hit.value, Float32Array.of(3));
    assert.deepEqual(counted.calls, ['mgetBuffer'], 'one round trip');
    reads.length = 0;
    const again = await reader.cache.lookupAt('v', source);
    assert.ok(again?.hit && again.tier === 'memory');
    assert.equal(reads.length, 1, 'a memory hit still reads the version from Redis');

    // A write: the version moves on. Neither the memory tier nor Redis serves the value of 3.
    await redis.incr(versionKey);
    const afterWrite = await reader.cache.lookupAt('v', source);
    assert.ok(afterWrite && !afterWrite.hit && afterWrite.version === 4, 'memory held version 3');
    afterWrite.fill(undefined);
    const elsewhere = await tracked({ redis }).cache.lookupAt('v', source);
    assert.ok(elsewhere && !elsewhere.hit && elsewhere.version === 4, 'Redis held version 3');

    // A fill that lags a write (computed at 4, stored after the version became 5) is stored as
    // built on 4, and a lookup at 5 misses it.
    await redis.incr(versionKey);
    elsewhere.fill(Float32Array.of(4));
    for (let i = 0; i < 100 && (await redis.getBuffer(`${RUN}v`))?.toString('latin1', 0, 2) !== '4\n'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const late = await tracked({ redis }).cache.lookupAt('v', source);
    assert.ok(late && !late.hit && late.version === 5);
    late.fill(undefined);
    assert.deepEqual(reader.results, ['hit_redis', 'hit_memory', 'miss']);
  } finally {
    await redis.del(versionKey, `${RUN}v`);
    redis.disconnect();
  }
});

test('versioned Redis tier: while Redis fails the version is read on its own, and without it nothing is served or stored', async () => {
  let version: number | undefined = 7;
  const source = { redisKey: 'version', read: async () => version };
  const broken: RedisLike = {
    getBuffer: async () => Promise.reject(new Error('down')),
    mgetBuffer: async () => Promise.reject(new Error('down')),
    get: async () => Promise.reject(new Error('down')),
    set: async () => Promise.reject(new Error('down')),
  };
  const { cache } = tracked({ redis: broken, timeoutMs: 5, failures: 1 });
  const miss = await cache.lookupAt('k', source);
  assert.ok(miss && !miss.hit && miss.version === 7, 'the MGET failed: the version came from read()');
  miss.fill(Float32Array.of(7));
  const memory = await cache.lookupAt('k', source);
  assert.ok(memory?.hit && memory.tier === 'memory', 'the memory tier serves with the circuit open');
  version = undefined;
  assert.equal(await cache.lookupAt('k', source), undefined);
});

test('versioned single flight: concurrent misses at one version compute once; a miss at a newer version does not wait for an older one', async () => {
  const { cache } = tracked();
  let version = 1;
  const source = { read: async () => version };
  const first = await cache.lookupAt('q', source);
  assert.ok(first && !first.hit);
  const waiting = cache.lookupAt('q', source);
  version = 2;
  const newer = await cache.lookupAt('q', source);
  assert.ok(newer && !newer.hit && newer.version === 2, 'its own computation');
  first.fill(Float32Array.of(1));
  const waited = await waiting;
  assert.ok(waited?.hit && waited.tier === 'in_flight' && waited.version === 1);
  newer.fill(Float32Array.of(2));
  const now = await cache.lookupAt('q', source);
  assert.ok(now?.hit);
  assert.deepEqual(now.value, Float32Array.of(2));
});

test('versioned single flight: a lookup whose Redis read was sent before a fill and answered after it is served that fill, not a second computation', async () => {
  // Redis answers the first MGET at once and holds the second until the test releases it, with
  // what Redis held when it was sent: the version, and no value yet (the fill's SET lands later).
  const held = deferred<(Buffer | null)[]>();
  let mgets = 0;
  const redis: RedisLike = {
    getBuffer: async () => null,
    mgetBuffer: async () => (++mgets === 1 ? [Buffer.from('1'), null] : held.promise),
    get: async () => null,
    set: async () => 'OK',
  };
  const { cache, results } = tracked({ redis });
  const source = { redisKey: 'version', read: async () => 1 };
  const first = await cache.lookupAt('q', source);
  assert.ok(first && !first.hit, 'the first lookup computes');
  const second = cache.lookupAt('q', source);
  first.fill(Float32Array.of(1));
  held.resolve([Buffer.from('1'), null]);
  const served = await second;
  assert.ok(served?.hit && served.tier === 'memory', `the fill in memory serves it: ${JSON.stringify(served)}`);
  assert.deepEqual(results, ['miss', 'hit_memory']);
});
