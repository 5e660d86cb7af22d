import { LRUCache } from 'lru-cache';
import { setTimeout as sleep } from 'node:timers/promises';
import { deferred } from '../core/deferred.js';
import type { DeploymentRedis } from '../core/deployment-redis.js';

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
 * How long a Redis ledger entry waits to be written with the others: one pipeline (one socket
 * write) per batch instead of one command per request. Entries waiting are read from memory by
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
  /** The entries waiting for the next write, and the promise of that write. */
  let batch: { entries: Map<string, string>; written: ReturnType<typeof deferred<void>> } | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** The last batch sent: `flush` waits for its reply too, so nothing is in flight when Redis disconnects. */
  let sent: Promise<void> = Promise.resolve();

  const write = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const current = batch;
    if (!current) return sent;
    batch = undefined;
    sent = current.written.promise;
    const pipeline = redis.pipeline();
    for (const [key, variant] of current.entries) pipeline.set(key, variant, 'EX', ttlS);
    pipeline.exec().then((replies) => {
      const failure = replies?.find(([err]) => err)?.[0];
      if (failure) current.written.reject(failure);
      else current.written.resolve();
    }, current.written.reject);
    return current.written.promise;
  };

  return {
    remember(tenant, requestId, variant) {
      batch ??= { entries: new Map(), written: deferred<void>() };
      batch.entries.set(entryKey(keyPrefix, tenant, requestId), variant);
      timer ??= setTimeout(write, BATCH_MS).unref();
      return batch.written.promise;
    },
    async variantOf(tenant, requestId) {
      const key = entryKey(keyPrefix, tenant, requestId);
      const waiting = batch?.entries.get(key);
      if (waiting !== undefined) return waiting;
      // Commands on one connection run in order: this replica's written batches are already in.
      // Another replica's may still be waiting for its timer.
      const found = (await redis.get(key)) ?? (await sleep(2 * BATCH_MS).then(() => redis.get(key)));
      return found ?? undefined;
    },
    flush: write,
  };
}
