import type { ApiKeyRecord } from '../../config/auth.js';
import type { Config } from '../../config/schema.js';
import { ProntoError } from '../../core/errors.js';
import { PUBLIC_TENANT } from './auth.js';

/** The request limit that applies to one caller, and the counter it is counted in. */
export interface RequestPolicy {
  /** The policy's name in the RateLimit headers: the key's own, or the global one. */
  name: 'key' | 'default';
  counter: string;
  max: number;
  windowMs: number;
}

/**
 * A key's own `requests_per_s` with `burst` wins over the global `rate_limit` (per tenant, per
 * address without keys; only when enabled). The library counts fixed windows, so a rate with a
 * burst is a window of `burst` requests lasting `burst / requests_per_s` seconds: never more than
 * the burst at once, and the rate on average.
 */
export function requestPolicy(key: ApiKeyRecord, ip: string, rateLimit: Config['rate_limit']): RequestPolicy | undefined {
  const { requests_per_s: rate, burst } = key.limits;
  if (rate !== undefined) {
    const max = burst ?? Math.max(1, Math.ceil(rate));
    return { name: 'key', counter: `key:${key.id}`, max, windowMs: Math.max(1, Math.round((max / rate) * 1000)) };
  }
  if (!rateLimit.enabled) return undefined;
  return { name: 'default', counter: key.tenant === PUBLIC_TENANT ? ip : key.tenant, max: rateLimit.max_per_minute, windowMs: 60_000 };
}

/** What @fastify/rate-limit's check reports of a counted request. */
export interface CountedRequest {
  max: number;
  remaining: number;
  ttl: number;
  isExceeded: boolean;
}

/**
 * The IETF headers (draft-ietf-httpapi-ratelimit-headers): the policy (`q` requests per `w`
 * seconds) and what is left of it (`r` requests for `t` more seconds).
 */
export function rateLimitHeaders(policy: RequestPolicy, counted: CountedRequest): Record<string, string> {
  return {
    'ratelimit-policy': `"${policy.name}";q=${policy.max};w=${Math.ceil(policy.windowMs / 1000)}`,
    ratelimit: `"${policy.name}";r=${counted.remaining};t=${Math.ceil(counted.ttl / 1000)}`,
  };
}

/** The refusal of a caller over its request limit, whatever the transport (429 / RESOURCE_EXHAUSTED). */
export function rateLimited(policy: RequestPolicy, ttlMs: number): ProntoError {
  const retryAfterS = ttlMs / 1000;
  const per = policy.windowMs % 1000 === 0 ? `${policy.windowMs / 1000} s` : `${policy.windowMs} ms`;
  return new ProntoError('rate_limited', `Rate limit of ${policy.max} requests per ${per} exceeded; retry in ${Math.max(1, Math.ceil(retryAfterS))} s`, {
    retryAfterS,
    details: { limit: policy.name === 'key' ? 'requests_per_s' : 'rate_limit' },
  });
}
