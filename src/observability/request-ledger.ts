import { LRUCache } from 'lru-cache';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentRedis } from '../core/deployment-redis.js';
import { WriteBehind } from '../core/write-behind.js';

/**
 * Which tenant made which request, and which variant served it, so that only that tenant may rate
 * it (request ids are chosen by clients and guessable) and the rating counts for that variant.
 * Kept `ttlS` (`observability.ratable_for_s`), in Redis when configured (the rating may reach
 * another replica), else in a bounded in-process map.
 */
export interface RequestLedger {
  /** Settles when the entry is written (in Redis: with its batch, see BATCH_MS). */
  remember(tenant: string, requestId: string, variant: string): Promise<void>;
  /** The variant that served the tenant's request, or undefined when the tenant made no such request. */
  variantOf(tenant: string, requestId: string): Promise<string | undefined>;
  /** Writes the entries still waiting for their batch (at shutdown, before Redis disconnects). */
  flush(): Promise<void>;
}

/**
 * How long a Redis ledger entry waits to be written with the others (core/write-behind): one
 * pipeline (one socket write) per batch instead of one command per request. Entries waiting are read from memory by
 * this replica; another replica that misses reads again after 2 × BATCH_MS. A crash loses at most
 * this much of the ledger (those requests can then not be rated).
 */
const BATCH_MS = 10;

export function createRequestLedger(shared: DeploymentRedis | undefined, { ttlS, maxEntries = 100_000 }: { ttlS: number; maxEntries?: number }): RequestLedger {
  if (shared) return redisLedger(shared, ttlS);
  const seen = new LRUCache<string, string>({ max: maxEntries, ttl: ttlS * 1000 });
  return {
    async remember(tenant, requestId, variant) {
      seen.set(entryKey('', tenant, requestId), variant);
    },
    async variantOf(tenant, requestId) {
      return seen.get(entryKey('', tenant, requestId));
    },
    async flush() {},
  };
}

function entryKey(prefix: string, tenant: string, requestId: string): string {
  return `${prefix}${tenant}:${requestId}`;
}

function redisLedger({ redis, prefix }: DeploymentRedis, ttlS: number): RequestLedger {
  const keyPrefix = `${prefix}:request:`;
  // The pipeline goes out before the first await: a later GET on this connection runs after it.
  const entries = new WriteBehind<{ key: string; variant: string }>(BATCH_MS, async (batch) => {
    const pipeline = redis.pipeline();
    for (const { key, variant } of batch) pipeline.set(key, variant, 'EX', ttlS);
    const failure = (await pipeline.exec())?.find(([err]) => err)?.[0];
    if (failure) throw failure;
  });

  return {
    remember(tenant, requestId, variant) {
      return entries.add({ key: entryKey(keyPrefix, tenant, requestId), variant });
    },
    async variantOf(tenant, requestId) {
      const key = entryKey(keyPrefix, tenant, requestId);
      const waiting = entries.waiting.find((entry) => entry.key === key);
      if (waiting) return waiting.variant;
      // Commands on one connection run in order: this replica's written batches are already in.
      // Another replica's may still be waiting for its timer.
      const found = (await redis.get(key)) ?? (await sleep(2 * BATCH_MS).then(() => redis.get(key)));
      return found ?? undefined;
    },
    flush: () => entries.flush(),
  };
}
