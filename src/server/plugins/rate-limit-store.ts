import { createRequire } from 'node:module';
import type { FastifyRateLimitOptions } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/** The callback-style store contract of @fastify/rate-limit (its own stores are untyped CommonJS). */
type Counted = (err: Error | null, result?: { current: number; ttl: number }) => void;
interface RateLimitStore {
  incr(key: string, callback: Counted, timeWindow: number, max: number): void;
  child(routeOptions: unknown): RateLimitStore;
}
type StoreClass<A extends unknown[]> = new (...args: A) => RateLimitStore;

const require = createRequire(import.meta.url);
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as StoreClass<[boolean, boolean, Redis, string]>;
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreClass<[boolean, boolean]>;

/**
 * Rate limits shared through Redis while it answers, and counted per replica while it does not:
 * a Redis outage makes limits local (each replica allows the full rate) instead of failing
 * requests, and they are shared again, without a restart, as soon as Redis answers.
 */
export function fallbackRateLimitStore(redis: Redis, nameSpace: string, timeoutMs: number) {
  class FallbackStore implements RateLimitStore {
    constructor(
      private readonly shared: RateLimitStore,
      private readonly local: RateLimitStore,
    ) {}

    incr(key: string, callback: Counted, timeWindow: number, max: number): void {
      let answered = false;
      const answer: Counted = (err, result) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        if (err) this.local.incr(key, callback, timeWindow, max);
        else callback(null, result);
      };
      const timer = setTimeout(() => answer(new Error('rate-limit store timed out')), timeoutMs);
      if (redis.status !== 'ready') return answer(new Error('Redis is not connected'));
      this.shared.incr(key, answer, timeWindow, max);
    }

    child(routeOptions: unknown): RateLimitStore {
      return new FallbackStore(this.shared.child(routeOptions), this.local.child(routeOptions));
    }
  }

  return class extends FallbackStore {
    constructor(params: FastifyRateLimitOptions) {
      // The plugin passes its resolved global parameters, which carry these two as well.
      const { continueExceeding = false, exponentialBackoff = false } = params as {
        continueExceeding?: boolean;
        exponentialBackoff?: boolean;
      };
      super(new RedisStore(continueExceeding, exponentialBackoff, redis, nameSpace), new LocalStore(continueExceeding, exponentialBackoff));
    }
  };
}
