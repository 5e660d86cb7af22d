import { LRUCache } from 'lru-cache';
import { raceAbort } from './deadline.js';
import type { RedisGuard } from './redis-guard.js';

/** The slice of ioredis the cache uses (core depends on no other module of ours). */
export interface RedisLike {
  getBuffer(key: string): Promise<Buffer | null>;
  set(key: string, value: Buffer, mode: 'PX', ttlMs: number): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<string | null>;
}

export interface CacheCodec<V> {
  encode(value: V): Buffer;
  decode(buffer: Buffer): V;
}

/** Where a value came from: this process's memory, Redis, or another caller's computation in flight. */
export type CacheTier = 'memory' | 'redis' | 'in_flight';
export type CacheResult = 'hit_memory' | 'hit_redis' | 'hit_in_flight' | 'miss';

export interface TieredCacheOptions<V> {
  /** The `cache` label of the metrics. */
  name: string;
  /** Bytes of values (encoded size) the memory tier holds; 0: no memory tier. */
  memoryBytes: number;
  /** How long a value is served, in memory and in Redis. */
  ttlMs: number;
  codec: CacheCodec<V>;
  redis?: { client: RedisLike; guard: RedisGuard; prefix: string };
  onLookup?: (cache: string, result: CacheResult) => void;
  /** A value left the memory tier before it was asked to: `evict` (bytes), `expire` (TTL). */
  onEvict?: (cache: string, reason: 'evict' | 'expire') => void;
}

/** A lookup's outcome: the value and its tier, or a miss whose caller computes the value. */
export type Lookup<V> =
  | { hit: true; value: V; tier: CacheTier }
  | {
      hit: false;
      /**
       * Stores the computed value (`undefined`: nothing worth caching) and hands it to the callers
       * that missed the same key meanwhile. The caller that missed must call it exactly once.
       */
      fill(value: V | undefined): void;
    };

/**
 * A memory LRU bounded by bytes, with a TTL, in front of an optional Redis tier shared by every
 * replica. Concurrent misses of one key compute once (single flight): the first caller computes,
 * the others wait for its `fill`. The Redis tier is an optimisation, never a dependency: its calls
 * go through a RedisGuard (timeout and circuit), and a failed or skipped call is a miss.
 *
 * The single flight is written here rather than taken from lru-cache's `fetch`, which dedupes
 * fetches too: its fetch runs one function per key under one caller's signal, and here the value
 * is often produced by a stream the first caller consumes (an answer), not by a function.
 */
export class TieredCache<V> {
  private readonly memory?: LRUCache<string, { value: V }>;
  private readonly flights = new Map<string, Promise<V | undefined>>();

  constructor(private readonly options: TieredCacheOptions<V>) {
    if (options.memoryBytes > 0) {
      this.memory = new LRUCache<string, { value: V }>({
        maxSize: options.memoryBytes,
        ttl: options.ttlMs,
        // Expired entries are dropped when met (no timer per entry); `set`/`delete` are ours, not evictions.
        dispose: (_value, _key, reason) => {
          if (reason === 'evict' || reason === 'expire') options.onEvict?.(options.name, reason);
        },
      });
    }
  }

  /** Bytes held by the memory tier now. */
  get memoryBytes(): number {
    return this.memory?.calculatedSize ?? 0;
  }

  /**
   * The cached value, or a miss to fill. A caller that finds the key in flight waits for it
   * (bounded by its own `signal`); if that computation gives nothing, the waiter computes its own.
   */
  async lookup(key: string, signal?: AbortSignal): Promise<Lookup<V>> {
    const local = this.memory?.get(key);
    if (local !== undefined) return this.hit(local.value, 'memory');
    const inFlight = this.flights.get(key);
    if (inFlight) {
      const value = await raceAbort(inFlight, signal);
      return value === undefined ? this.miss(key, false) : this.hit(value, 'in_flight');
    }
    let settle!: (value: V | undefined) => void;
    this.flights.set(key, new Promise<V | undefined>((resolve) => (settle = resolve)));
    const remote = await this.fromRedis(key);
    if (remote !== undefined) {
      this.flights.delete(key);
      settle(remote);
      this.memory?.set(key, { value: remote }, { size: this.sizeOf(key, this.options.codec.encode(remote)) });
      return this.hit(remote, 'redis');
    }
    return this.miss(key, true, settle);
  }

  /** Stores a value in both tiers (the Redis write is fire-and-forget). */
  set(key: string, value: V): void {
    const encoded = this.options.codec.encode(value);
    this.memory?.set(key, { value }, { size: this.sizeOf(key, encoded) });
    const redis = this.options.redis;
    if (redis) void redis.guard.run(() => redis.client.set(redis.prefix + key, encoded, 'PX', this.options.ttlMs));
  }

  /** The cached value, or `compute()`'s, computed once however many callers miss the key at once. */
  async getOrCompute(key: string, compute: () => Promise<V>, signal?: AbortSignal): Promise<{ value: V; tier?: CacheTier }> {
    const found = await this.lookup(key, signal);
    if (found.hit) return found;
    try {
      const value = await compute();
      found.fill(value);
      return { value };
    } catch (err) {
      found.fill(undefined);
      throw err;
    }
  }

  private async fromRedis(key: string): Promise<V | undefined> {
    const redis = this.options.redis;
    if (!redis) return undefined;
    const buffer = await redis.guard.run(() => redis.client.getBuffer(redis.prefix + key));
    return buffer ? this.options.codec.decode(buffer) : undefined;
  }

  private miss(key: string, owner: boolean, settle?: (value: V | undefined) => void): Lookup<V> {
    this.record('miss');
    let filled = false;
    return {
      hit: false,
      fill: (value) => {
        if (filled) return;
        filled = true;
        if (value !== undefined) this.set(key, value);
        if (owner) {
          this.flights.delete(key);
          settle?.(value);
        }
      },
    };
  }

  private hit(value: V, tier: CacheTier): Lookup<V> {
    this.record(`hit_${tier}`);
    return { hit: true, value, tier };
  }

  private record(result: CacheResult): void {
    this.options.onLookup?.(this.options.name, result);
  }

  /** lru-cache needs a positive size: the encoded value plus its key. */
  private sizeOf(key: string, encoded: Buffer): number {
    return encoded.byteLength + key.length + 1;
  }
}

/** Float32 vectors as their raw little-endian bytes. */
export const float32Codec: CacheCodec<Float32Array> = {
  encode: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  decode: (buffer) => new Float32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)),
};

/** Plain JSON values (results, features). */
export function jsonCodec<V>(): CacheCodec<V> {
  return {
    encode: (value) => Buffer.from(JSON.stringify(value)),
    decode: (buffer) => JSON.parse(buffer.toString('utf8')) as V,
  };
}
