import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord } from '../../config/auth.js';
import { ProntoError } from '../../core/errors.js';
import { matchesAny } from '../../core/patterns.js';

export const PUBLIC_TENANT = 'public';

/** The caller when no keys are configured: the service is open, so nothing is refused. */
export const OPEN_KEY: Readonly<ApiKeyRecord> = Object.freeze({
  id: 'anonymous',
  sha256: '',
  tenant: PUBLIC_TENANT,
  role: 'operator',
  routes: ['*'],
  namespaces: ['*'],
  allow_variant_override: true,
  limits: {},
});

/** What a caller presented, whatever the transport (HTTP headers or gRPC metadata). */
export interface Credentials {
  /** `Bearer <key>` */
  authorization?: unknown;
  /** The bare key (`x-api-key`). */
  apiKey?: unknown;
}

export interface Authenticator {
  /** False while no keys are configured: the service is open and every caller is OPEN_KEY. */
  readonly required: boolean;
  /** The caller's key record, or `unauthorized`. */
  authenticate(credentials: Credentials): ApiKeyRecord;
  /** `forbidden_route` unless the key lists the route (HTTP route template or gRPC method path). */
  authorizeRoute(key: ApiKeyRecord, route: string): void;
  /** `operator_required` unless the key is an operator's (what it guards shows every tenant). */
  requireOperator(key: ApiKeyRecord, what: string): void;
}

/**
 * The one auth decision, shared by HTTP and gRPC. Keys are kept as SHA-256 hashes only; the
 * presented key is hashed and compared with every stored hash in constant time, without stopping
 * at a match, so response times tell nothing about which bytes (or which key) came close.
 * `keys` is read on every request: a reload replaces the list without a restart.
 */
export function createAuthenticator(keys: () => readonly ApiKeyRecord[]): Authenticator {
  const digests = new WeakMap<readonly ApiKeyRecord[], Buffer[]>();
  const digestsOf = (records: readonly ApiKeyRecord[]) => {
    let found = digests.get(records);
    if (!found) digests.set(records, (found = records.map((r) => Buffer.from(r.sha256, 'hex'))));
    return found;
  };
  return {
    get required() {
      return keys().length > 0;
    },
    authenticate({ authorization, apiKey }) {
      const records = keys();
      if (records.length === 0) return OPEN_KEY;
      const presented = typeof authorization === 'string' && authorization.startsWith('Bearer ') ? authorization.slice(7) : apiKey;
      if (typeof presented !== 'string' || presented === '') {
        throw new ProntoError('unauthorized', 'Send an API key as "Authorization: Bearer <key>"');
      }
      const digest = createHash('sha256').update(presented, 'utf8').digest();
      let match: ApiKeyRecord | undefined;
      digestsOf(records).forEach((stored, i) => {
        if (timingSafeEqual(stored, digest)) match = records[i];
      });
      if (!match) throw new ProntoError('unauthorized', 'The API key is not valid');
      return match;
    },
    authorizeRoute(key, route) {
      if (!matchesAny(key.routes, route)) {
        throw new ProntoError('forbidden_route', `API key "${key.id}" may not use ${route}`, { details: { route } });
      }
    },
    requireOperator(key, what) {
      if (key.role !== 'operator') {
        throw new ProntoError('operator_required', `${what} shows every tenant's data: it needs a key with role operator ("${key.id}" is a tenant key)`);
      }
    },
  };
}
