import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ApiKeyRecord } from '../../config/auth.js';
import { ProntoError } from '../../core/errors.js';
import type { TokenBudget } from '../../pipeline/types.js';

const MINUTE_MS = 60_000;

/**
 * A stream slot held in Redis is a lease: a replica that dies holding one frees it when the lease
 * ends. No stream outlives its deadline, so twice the longest deadline is a safe lease.
 */
const TAKE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

/**
 * The per-key limits beyond the request rate (which @fastify/rate-limit counts): answer streams
 * open at once and generated tokens per minute. Shared by the replicas through Redis when there is
 * one; counted per replica while Redis does not answer (each replica then allows the full limit),
 * as the request limit does, so a Redis outage never fails a request.
 */
export interface KeyLimiters {
  /** Takes one of the key's stream slots until `release` is called; 429 when all are taken. */
  openStream(key: ApiKeyRecord): Promise<() => void>;
  /** The key's token budget for one request, or undefined when the key has none. */
  tokenBudget(key: ApiKeyRecord): TokenBudget | undefined;
}

export function createKeyLimiters(options: { redis?: Redis; prefix: string; leaseMs: number; redisTimeoutMs: number }): KeyLimiters {
  const { redis, prefix, leaseMs, redisTimeoutMs } = options;
  const localStreams = new Map<string, number>();
  const localTokens = new Map<string, { minute: number; used: number }>();

  /** Runs `shared` on Redis when it answers in time, else `local`. */
  async function sharedOr<T>(shared: (redis: Redis) => Promise<T>, local: () => T): Promise<T> {
    if (!redis || redis.status !== 'ready') return local();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis timed out')), redisTimeoutMs);
    });
    try {
      return await Promise.race([shared(redis), timeout]);
    } catch {
      return local();
    } finally {
      clearTimeout(timer);
    }
  }

  function takeLocalSlot(key: ApiKeyRecord, limit: number): (() => void) | undefined {
    const open = localStreams.get(key.id) ?? 0;
    if (open >= limit) return undefined;
    localStreams.set(key.id, open + 1);
    return () => {
      const left = (localStreams.get(key.id) ?? 1) - 1;
      if (left > 0) localStreams.set(key.id, left);
      else localStreams.delete(key.id);
    };
  }

  const localUsed = (key: ApiKeyRecord, minute: number) => {
    const entry = localTokens.get(key.id);
    return entry?.minute === minute ? entry.used : 0;
  };
  const spendLocally = (key: ApiKeyRecord, minute: number, tokens: number) =>
    localTokens.set(key.id, { minute, used: localUsed(key, minute) + tokens });

  return {
    async openStream(key) {
      const limit = key.limits.concurrent_streams;
      if (limit === undefined) return () => undefined;
      const slots = `${prefix}streams:${key.id}`;
      const member = randomUUID();
      const release = await sharedOr<(() => void) | undefined>(
        async (r) => {
          const now = Date.now();
          const taken = await r.eval(TAKE_SLOT, 1, slots, now, now + leaseMs, limit, member, leaseMs);
          // A failed release leaves the lease to expire: the slot frees itself later.
          return taken === 1 ? () => void r.zrem(slots, member).catch(() => undefined) : undefined;
        },
        () => takeLocalSlot(key, limit),
      );
      if (!release) {
        throw new ProntoError('rate_limited', `API key "${key.id}" has ${limit} streams open, its limit of concurrent streams; retry when one ends`, {
          retryAfterS: 1,
          details: { limit: 'concurrent_streams' },
        });
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    },

    tokenBudget(key) {
      const limit = key.limits.tokens_per_minute;
      if (limit === undefined) return undefined;
      const counter = (minute: number) => `${prefix}tokens:${key.id}:${minute}`;
      return {
        async check() {
          const minute = Math.floor(Date.now() / MINUTE_MS);
          const used = await sharedOr(async (r) => Number((await r.get(counter(minute))) ?? 0), () => localUsed(key, minute));
          if (used >= limit) {
            const retryAfterS = ((minute + 1) * MINUTE_MS - Date.now()) / 1000;
            throw new ProntoError(
              'rate_limited',
              `API key "${key.id}" has generated its ${limit} tokens of this minute; retry in ${Math.max(1, Math.ceil(retryAfterS))} s`,
              { retryAfterS, details: { limit: 'tokens_per_minute' } },
            );
          }
        },
        spend(tokens) {
          const minute = Math.floor(Date.now() / MINUTE_MS);
          void sharedOr(
            async (r) => {
              await r.multi().incrby(counter(minute), tokens).pexpire(counter(minute), 2 * MINUTE_MS).exec();
            },
            () => void spendLocally(key, minute, tokens),
          );
        },
      };
    },
  };
}
