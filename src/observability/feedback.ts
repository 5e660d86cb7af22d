import type { DeploymentRedis } from '../core/deployment-redis.js';

export interface FeedbackRecord {
  request_id: string;
  tenant: string;
  rating: number;
  comment?: string;
  received_at: string;
  /** The pipeline variant that served the rated request. */
  variant: string;
}

/**
 * Where user feedback goes: the newest `limit` records, in Redis when configured (shared by the
 * deployment's replicas, under its prefix: two deployments on one Redis keep their feedback apart).
 */
export interface FeedbackSink {
  add(record: FeedbackRecord): Promise<void>;
  recent(tenant: string, count: number): Promise<FeedbackRecord[]>;
  /** The tenant's records received at or after `sinceMs` (epoch ms), newest first, of the newest `limit` kept. */
  since(tenant: string, sinceMs: number): Promise<FeedbackRecord[]>;
}

export function createFeedbackSink(shared: DeploymentRedis | undefined, limit = 10_000): FeedbackSink {
  if (shared) {
    const { redis } = shared;
    const KEY = `${shared.prefix}:feedback`;
    return {
      async add(record) {
        await redis.multi().lpush(KEY, JSON.stringify(record)).ltrim(KEY, 0, limit - 1).exec();
      },
      async recent(tenant, count) {
        const raw = await redis.lrange(KEY, 0, limit - 1);
        return raw.map((r) => JSON.parse(r) as FeedbackRecord).filter((r) => r.tenant === tenant).slice(0, count);
      },
      async since(tenant, sinceMs) {
        const raw = await redis.lrange(KEY, 0, limit - 1);
        return newerOf(raw.map((r) => JSON.parse(r) as FeedbackRecord), tenant, sinceMs);
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
    async since(tenant, sinceMs) {
      return newerOf(records, tenant, sinceMs);
    },
  };
}

/** The tenant's records from `sinceMs` on, of a list newest first (it stops at the first older one). */
function newerOf(newestFirst: FeedbackRecord[], tenant: string, sinceMs: number): FeedbackRecord[] {
  const out: FeedbackRecord[] = [];
  for (const record of newestFirst) {
    if (Date.parse(record.received_at) < sinceMs) break;
    if (record.tenant === tenant) out.push(record);
  }
  return out;
}
