import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import { ProntoError } from '../../core/errors.js';

export const PUBLIC_TENANT = 'public';

/** What a caller presented, whatever the transport (HTTP headers or gRPC metadata). */
export interface Credentials {
  /** `Bearer <key>` */
  authorization?: unknown;
  /** The bare key (`x-api-key`). */
  apiKey?: unknown;
}

export interface Authenticator {
  /** False when no keys are configured: the service is open and every caller is `public`. */
  readonly required: boolean;
  /** The caller's tenant, or `unauthorized`. */
  tenantOf(credentials: Credentials): string;
}

/**
 * The one auth decision, shared by HTTP and gRPC: API keys map callers to tenants, compared in
 * constant time so a key cannot be guessed byte by byte from response times.
 */
export function createAuthenticator(config: Config['auth']): Authenticator {
  const keys = config.api_keys.map((k) => ({ key: Buffer.from(k.key), tenant: k.tenant }));
  return {
    required: keys.length > 0,
    tenantOf({ authorization, apiKey }) {
      if (keys.length === 0) return PUBLIC_TENANT;
      const presented = typeof authorization === 'string' && authorization.startsWith('Bearer ') ? authorization.slice(7) : apiKey;
      if (typeof presented !== 'string' || presented === '') {
        throw new ProntoError('unauthorized', 'Send an API key as "Authorization: Bearer <key>"');
      }
      const candidate = Buffer.from(presented);
      const match = keys.find((k) => k.key.length === candidate.length && timingSafeEqual(k.key, candidate));
      if (!match) throw new ProntoError('unauthorized', 'The API key is not valid');
      return match.tenant;
    },
  };
}
