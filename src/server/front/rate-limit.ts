import { ProntoError } from '../../core/errors.js';

/** The refusal of a caller over its rate limit, whatever the transport (429 / RESOURCE_EXHAUSTED). */
export function rateLimited(maxPerMinute: number, ttlMs: number): ProntoError {
  const retryAfterS = ttlMs / 1000;
  return new ProntoError('rate_limited', `Rate limit of ${maxPerMinute} per minute exceeded; retry in ${Math.max(1, Math.ceil(retryAfterS))} s`, {
    retryAfterS,
  });
}
