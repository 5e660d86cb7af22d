import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

export interface FeedbackRecord {
  request_id: string;
  tenant: string;
  rating: number;
  comment?: string;
  received_at: string;
}

/** Where user feedback goes: the newest `limit` records, in Redis when configured (shared by replicas). */
export interface FeedbackSink {
  add(record: FeedbackRecord): Promise<void>;
  recent(tenant: string, count: number): Promise<FeedbackRecord[]>;
}

const KEY = 'pronto:feedback';

export function createFeedbackSink(redis: Redis | undefined, limit = 10_000): FeedbackSink {
  if (redis) {
    return {
      async add(record) {
        await redis.multi().lpush(KEY, JSON.stringify(record)).ltrim(KEY, 0, limit - 1).exec();
      },
      async recent(tenant, count) {
        const raw = await redis.lrange(KEY, 0, limit - 1);
        return raw.map((r) => JSON.parse(r) as FeedbackRecord).filter((r) => r.tenant === tenant).slice(0, count);
      },
    };
  }
  const records: FeedbackRecord[] = [];
  return {
    async add(record) {
      records.unshift(record);
      records.length = Math.min(records.length, limit);
    },
    async recent(tenant, count) {
      return records.filter((r) => r.tenant === tenant).slice(0, count);
    },
  };
}

/**
 * Which tenant made which request, so that only that tenant may rate it: request ids are chosen
 * by clients and guessable. Kept for a day, in Redis when configured (the rating may reach another
 * replica), else in a bounded in-process map.
 */
export interface RequestLedger {
  remember(tenant: string, requestId: string): Promise<void>;
  made(tenant: string, requestId: string): Promise<boolean>;
}

const LEDGER_TTL_S = 86_400;

export function createRequestLedger(redis: Redis | undefined, maxEntries = 100_000): RequestLedger {
  const key = (tenant: string, requestId: string) => `pronto:request:${tenant}:${requestId}`;
  if (redis) {
    return {
      async remember(tenant, requestId) {
        await redis.set(key(tenant, requestId), '1', 'EX', LEDGER_TTL_S);
      },
      async made(tenant, requestId) {
        return (await redis.exists(key(tenant, requestId))) === 1;
      },
    };
  }
  const seen = new LRUCache<string, true>({ max: maxEntries, ttl: LEDGER_TTL_S * 1000 });
  return {
    async remember(tenant, requestId) {
      seen.set(key(tenant, requestId), true);
    },
    async made(tenant, requestId) {
      return seen.has(key(tenant, requestId));
    },
  };
}
