import type { FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import { ProntoError } from '../../core/errors.js';
import { isPublicRoute } from '../route-policy.js';

const PUBLIC_TENANT = 'public';

/**
 * API keys map callers to tenants: `Authorization: Bearer <key>` or `x-api-key`. With no keys
 * configured the service is open and every caller is the `public` tenant. With keys, every route
 * needs one except those marked public (health, readiness, metrics, docs and the dashboard page:
 * probes and scrapers carry no keys); a URL that matches no route needs one too, and so do the
 * dashboard's statistics (/stats: every tenant's traffic).
 */
export function registerAuth(app: FastifyInstance, config: Config['auth']): void {
  const keys = config.api_keys.map((k) => ({ key: Buffer.from(k.key), tenant: k.tenant }));
  app.decorateRequest('tenant', PUBLIC_TENANT);
  if (keys.length === 0) return;
  app.addHook('onRequest', async (request) => {
    if (isPublicRoute(request)) return;
    const header = request.headers.authorization;
    const presented = header?.startsWith('Bearer ') ? header.slice(7) : request.headers['x-api-key'];
    if (typeof presented !== 'string' || presented === '') {
      throw new ProntoError('unauthorized', 'Send an API key as "Authorization: Bearer <key>"');
    }
    const candidate = Buffer.from(presented);
    const match = keys.find((k) => k.key.length === candidate.length && timingSafeEqual(k.key, candidate));
    if (!match) throw new ProntoError('unauthorized', 'The API key is not valid');
    request.tenant = match.tenant;
  });
}
