import type { FastifyInstance } from 'fastify';
import { PUBLIC_TENANT, type Authenticator } from '../front/auth.js';
import { isPublicRoute } from '../route-policy.js';

/**
 * API keys map callers to tenants: `Authorization: Bearer <key>` or `x-api-key`. With no keys
 * configured the service is open and every caller is the `public` tenant. With keys, every route
 * needs one except those marked public (health, readiness, metrics, docs and the dashboard page:
 * probes and scrapers carry no keys); a URL that matches no route needs one too, and so do the
 * dashboard's statistics (/stats: every tenant's traffic).
 */
export function registerAuth(app: FastifyInstance, auth: Authenticator): void {
  app.decorateRequest('tenant', PUBLIC_TENANT);
  if (!auth.required) return;
  app.addHook('onRequest', async (request) => {
    if (isPublicRoute(request)) return;
    request.tenant = auth.tenantOf({ authorization: request.headers.authorization, apiKey: request.headers['x-api-key'] });
  });
}
