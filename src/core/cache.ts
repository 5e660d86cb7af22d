import { LRUCache } from 'lru-cache';

/** The slice of ioredis the cache uses (core depends on no other module of ours). */
export interface RedisLike {
  getBuffer(key: string): Promise<Buffer | null>;
  set(key: string, value: Buffer, mode: 'PX', ttlMs: number): Promise<unknown>;
}

export interface CacheCodec<V> {
  encode(value: V): Buffer;
  decode(buffer: Buffer): V;
}

export type CacheResult = 'hit_memory' | 'hit_redis' | 'miss';

export interface TieredCacheOptions<V> {
  name: string;
  maxEntries: number;
  redis?: { client: RedisLike; prefix: string; ttlMs: number; codec: CacheCodec<V>; timeoutMs: number };
  onLookup?: (cache: string, result: CacheResult) => void;
}

/**
 * A memory LRU in front of an optional Redis tier shared by every replica. The Redis tier is an
 * optimisation, never a dependency: a lookup that errors or takes longer than `timeoutMs` counts
 * as a miss, and writes are fire-and-forget.
 */
export class TieredCache<V extends object> {
  private readonly memory: LRUCache<string, V>;

  constructor(private readonly options: TieredCacheOptions<V>) {
    this.memory = new LRUCache<string, V>({ max: options.maxEntries });
  }

  async get(key: string): Promise<V | undefined> {
    const local = this.memory.get(key);
    if (local !== undefined) return this.record('hit_memory', local);
    const redis = this.options.redis;
    if (!redis) return this.record('miss', undefined);
    const buffer = await withTimeout(redis.client.getBuffer(redis.prefix + key), redis.timeoutMs).catch(() => null);
    if (!buffer) return this.record('miss', undefined);
    const value = redis.codec.decode(buffer);
    this.memory.set(key, value);
    return this.record('hit_redis', value);
  }

  set(key: string, value: V): void {
    this.memory.set(key, value);
    const redis = this.options.redis;
    if (redis) redis.client.set(redis.prefix + key, redis.codec.encode(value), 'PX', redis.ttlMs).catch(() => undefined);
  }

  private record<T>(result: CacheResult, value: T): T {
    this.options.onLookup?.(this.options.name, result);
    return value;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(null), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Float32 vectors as their raw little-endian bytes. */
export const float32Codec: CacheCodec<Float32Array> = {
  encode: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  decode: (buffer) => new Float32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)),
};
