import { LRUCache } from 'lru-cache';
import { hash } from 'node:crypto';
import { raceAbort } from './deadline.js';
import type { RedisGuard } from './redis-guard.js';

/** The slice of ioredis the cache uses (core depends on no other module of ours). */
export interface RedisLike {
  getBuffer(key: string): Promise<Buffer | null>;
  mgetBuffer(...keys: string[]): Promise<(Buffer | null)[]>;
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
 * Where a versioned lookup (`lookupAt`) learns the current version of what its value depends on.
 * The version is read at every lookup, never trusted from memory: a value is served only when it
 * was built on that version.
 */
export interface VersionSource {
  /**
   * The Redis key holding the version, on the same Redis as the cache's tier: when the memory tier
   * does not hold the key, version and value are read in one command (MGET, one round trip).
   */
  redisKey?: string;
  /**
   * Reads the version on its own (`undefined`: it cannot be known, so nothing is served or
   * stored): without `redisKey`, when the memory tier holds the key (only the version is needed
   * then), and when the Redis tier failed or is skipped (its circuit open).
   */
  read(): Promise<number | undefined>;
}

/**
 * A memory LRU bounded by bytes, with a TTL, in front of an optional Redis tier shared by every
 * replica. Concurrent misses of one key compute once (single flight): the first caller computes,
 * the others wait for its `fill`. The Redis tier is an optimisation, never a dependency: its calls
 * go through a RedisGuard (timeout and circuit), and a failed or skipped call is a miss.
 *
 * The single flight is written here rather than taken from lru-cache's `fetch`, which dedupes
 * fetches too: its fetch runs one function per key under one caller's signal, and here the value
 * is often produced by a stream the first caller consumes (an answer), not by a function.
 *
 * A cache is used either plainly (`lookup`, `set`, `getOrCompute`) or with versions (`lookupAt`):
 * each key then holds one value with the version it was built on (in Redis as `<version>\n` and
 * the encoded value), a newer fill overwriting the older, and single flight is per key and version.
 */
export class TieredCache<V> {
  private readonly memory?: LRUCache<string, { value: V; version?: number }>;
  private readonly flights = new Map<string, Promise<V | undefined>>();

  constructor(private readonly options: TieredCacheOptions<V>) {
    if (options.memoryBytes > 0) {
      this.memory = new LRUCache<string, { value: V; version?: number }>({
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
    const store = (value: V) => this.set(key, value);
    if (inFlight) {
      const value = await raceAbort(inFlight, signal);
      return value === undefined ? this.miss(key, store, false) : this.hit(value, 'in_flight');
    }
    const settle = this.startFlight(key);
    const remote = await this.fromRedis(key);
    if (remote !== undefined) {
      this.flights.delete(key);
      settle(remote);
      this.memory?.set(key, { value: remote }, { size: this.sizeOf(key, this.options.codec.encode(remote)) });
      return this.hit(remote, 'redis');
    }
    return this.miss(key, store, true, settle);
  }

  /**
   * The value built on the current version (read from `source`, with the value when it can be),
   * or a miss whose `fill` stores the computed value as built on that version; `undefined` when
   * the version cannot be read (nothing may be served or stored then). A value of another version,
   * in memory or in Redis, is a miss. Concurrent misses of one key at one version compute once.
   * A lookup that waits for another's computation waits no longer than `deadline`, whose signal is
   * read only then (a request's signal is made when first asked for: a hit makes none).
   */
  async lookupAt(key: string, source: VersionSource, deadline?: { readonly signal: AbortSignal }): Promise<(Lookup<V> & { version: number }) | undefined> {
    const local = this.memory?.get(key);
    const redis = this.options.redis;
    let version: number | undefined;
    /** What Redis holds under the key, once read: its version's bytes and its value's. */
    let stored: { version: number; payload: Buffer } | null | undefined;
    let redisTried = false;
    if (local === undefined && redis && source.redisKey !== undefined) {
      const versionKey = source.redisKey;
      redisTried = true;
      const reply = await redis.guard.run(() => redis.client.mgetBuffer(versionKey, redis.prefix + key));
      if (reply) {
        version = reply[0] ? Number(reply[0].toString('latin1')) : 0;
        stored = reply[1] ? splitVersion(reply[1]) : null;
      }
    }
    // Not read with the value (the memory tier holds the key, or the Redis tier failed): alone.
    if (stored === undefined) version = await source.read();
    if (version === undefined || !Number.isSafeInteger(version)) return undefined;
    const at = version;
    // What memory held before the await, if it is of this version; else read again: meanwhile
    // another lookup's computation may have filled the key and ended its flight, and this lookup
    // must not compute it a second time.
    const held = local?.version === at ? local : this.memory?.get(key);
    if (held !== undefined) {
      if (held.version === at) return { ...this.hit(held.value, 'memory'), version: at };
      this.memory?.delete(key); // built on another version: it is never served again
    }
    const store = (value: V) => this.setAt(key, at, value);
    const found = stored?.version === at ? this.fromStored(key, at, stored.payload) : undefined;
    if (found) return { ...found, version: at };
    const flight = `${key}@${at}`;
    const inFlight = this.flights.get(flight);
    if (inFlight) {
      const value = await raceAbort(inFlight, deadline?.signal);
      return { ...(value === undefined ? this.miss(flight, store, false) : this.hit(value, 'in_flight')), version: at };
    }
    const settle = this.startFlight(flight);
    // Not read yet (the memory tier held an older value, or no version key): the value alone.
    if (!redisTried && redis) {
      const buffer = await redis.guard.run(() => redis.client.getBuffer(redis.prefix + key));
      const late = buffer ? splitVersion(buffer) : null;
      const found = late?.version === at ? this.fromStored(key, at, late.payload) : undefined;
      if (found) {
        this.flights.delete(flight);
        settle(found.value);
        return { ...found, version: at };
      }
    }
    return { ...this.miss(flight, store, true, settle), version: at };
  }

  /** Stores a value built on `version` in both tiers, in place of the key's value of any other version. */
  setAt(key: string, version: number, value: V): void {
    const encoded = this.options.codec.encode(value);
    this.memory?.set(key, { value, version }, { size: this.sizeOf(key, encoded) });
    const redis = this.options.redis;
    if (redis) {
      const bytes = Buffer.concat([Buffer.from(`${version}\n`, 'latin1'), encoded]);
      void redis.guard.run(() => redis.client.set(redis.prefix + key, bytes, 'PX', this.options.ttlMs));
    }
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

  /** A value read from Redis at the version asked for: decoded, kept in memory, a hit (undecodable: a miss). */
  private fromStored(key: string, version: number, payload: Buffer): { hit: true; value: V; tier: CacheTier } | undefined {
    let value: V;
    try {
      value = this.options.codec.decode(payload);
    } catch {
      return undefined;
    }
    this.memory?.set(key, { value, version }, { size: this.sizeOf(key, payload) });
    return this.hit(value, 'redis');
  }

  private startFlight(flight: string): (value: V | undefined) => void {
    let settle!: (value: V | undefined) => void;
    this.flights.set(flight, new Promise<V | undefined>((resolve) => (settle = resolve)));
    return settle;
  }

  /** `flight`: the key in flight (with its version for `lookupAt`); `store` keeps a computed value. */
  private miss(flight: string, store: (value: V) => void, owner: boolean, settle?: (value: V | undefined) => void): Lookup<V> {
    this.record('miss');
    let filled = false;
    return {
      hit: false,
      fill: (value) => {
        if (filled) return;
        filled = true;
        if (value !== undefined) store(value);
        if (owner) {
          this.flights.delete(flight);
          settle?.(value);
        }
      },
    };
  }

  private hit(value: V, tier: CacheTier): { hit: true; value: V; tier: CacheTier } {
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

/** A versioned value's bytes in Redis, `<version>\n<value>`, split; `null` for anything else. */
function splitVersion(buffer: Buffer): { version: number; payload: Buffer } | null {
  const newline = buffer.indexOf(10);
  if (newline < 1 || newline > 16) return null;
  const version = Number(buffer.toString('latin1', 0, newline));
  return Number.isSafeInteger(version) ? { version, payload: buffer.subarray(newline + 1) } : null;
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

/** A cache key's digest of a text (SHA-256, base64url): one-shot, no Hash object per lookup. */
export function keyDigest(text: string): string {
  return hash('sha256', text, 'base64url');
}
