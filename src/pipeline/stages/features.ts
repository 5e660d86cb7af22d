import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { FeaturesConfig } from '../../config/schema.js';
import type { TieredCache } from '../../core/cache.js';
import { raceAbort } from '../../core/deadline.js';

/** User metadata (tier and the fields config names) that later stages and logs may use. */
export type UserFeatures = Record<string, string>;

export interface FeatureSource {
  get(userId: string, signal: AbortSignal): Promise<UserFeatures>;
}

/** Keeps only the configured fields, falling back to the configured defaults. */
function project(config: FeaturesConfig, found: Record<string, unknown> | undefined): UserFeatures {
  const out: UserFeatures = {};
  for (const field of config.fields) {
    const value = found?.[field];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[field] = String(value);
    else if (config.defaults[field] !== undefined) out[field] = config.defaults[field];
  }
  return out;
}

/** Features looked up once per user per `cache.features.ttl_s` (and once for concurrent requests of one user). */
export function cachedFeatureSource(source: FeatureSource, cache: TieredCache<UserFeatures>): FeatureSource {
  return { get: async (userId, signal) => (await cache.getOrCompute(userId, () => source.get(userId, signal), signal)).value };
}

/** Features from a JSON file `{ "<user id>": { "tier": "pro" } }`, read once at start. */
export function fileFeatureSource(config: FeaturesConfig): FeatureSource {
  const users: Record<string, Record<string, unknown>> = config.file ? JSON.parse(readFileSync(config.file, 'utf8')) : {};
  return { get: async (userId) => project(config, users[userId]) };
}

/** Features from the Redis hash `pronto:user:<id>` (shared by every replica). */
export function redisFeatureSource(config: FeaturesConfig, redis: Redis): FeatureSource {
  return {
    get: async (userId, signal) => project(config, await raceAbort(redis.hgetall(`pronto:user:${userId}`), signal)),
  };
}
