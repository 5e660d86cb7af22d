import type { Redis } from 'ioredis';

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
