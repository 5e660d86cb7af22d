import { randomUUID } from 'node:crypto';
import type { RedisGuard } from './redis-guard.js';

/**
 * The version of each namespace's index: every write (documents added or deleted) gives the
 * namespace a new one, and cached results are keyed by it, so a result built on older documents
 * is never found again once the write is done.
 */
export interface IndexVersions {
  /** The namespace's version now; `undefined` when it cannot be known (Redis unreachable). */
  current(namespace: string): Promise<string | undefined>;
  /** A new version after a write; `false` when Redis could not be told (see docs/CONFIG.md). */
  bump(namespace: string): Promise<boolean>;
}

/** One process: the versions are counters in memory. */
export function memoryIndexVersions(): IndexVersions {
  const versions = new Map<string, number>();
  return {
    current: async (namespace) => String(versions.get(namespace) ?? 0),
    async bump(namespace) {
      versions.set(namespace, (versions.get(namespace) ?? 0) + 1);
      return true;
    },
  };
}

export interface VersionStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
}

/**
 * Every replica: the versions live in Redis and each lookup reads it, so a write on one replica is
 * seen by the next request on any other. A version is a random id, not a counter: if Redis lost
 * its keys, a counter would start again and meet versions that memory tiers still hold.
 */
export function redisIndexVersions(client: VersionStore, guard: RedisGuard, prefix: string): IndexVersions {
  return {
    async current(namespace) {
      const version = await guard.run(() => client.get(prefix + namespace));
      // `null`: never written (no write since Redis began keeping it), a version like any other.
      return version === undefined ? undefined : (version ?? '0');
    },
    async bump(namespace) {
      return (await guard.run(() => client.set(prefix + namespace, randomUUID()))) !== undefined;
    },
  };
}
