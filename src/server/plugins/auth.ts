import type { FastifyInstance } from 'fastify';
import { OPEN_KEY, PUBLIC_TENANT, type Authenticator } from '../front/auth.js';
import { isPublicRoute, routeOf } from '../route-policy.js';

/**
 * API keys map callers to their key records: `Authorization: Bearer <key>` or `x-api-key`. With
 * no keys configured the service is open and every caller is OPEN_KEY (tenant `public`). With
 * keys, every route needs one except those marked public (health, readiness, metrics, docs and
 * the dashboard page: probes and scrapers carry no keys); a URL that matches no route needs one
 * too. A key may be limited to some routes (403 `forbidden_route`), and a route marked operator
 * (/stats: every tenant's traffic) needs an operator's key (403 `operator_required`).
 */
export function registerAuth(app: FastifyInstance, auth: Authenticator): void {
  app.decorateRequest('tenant', PUBLIC_TENANT);
  app.decorateRequest('apiKey', null as never);
  // Callback style, as every hook whose work never waits: an async hook costs two promises and a
  // microtask hop per request. A throw (401, 403) is Fastify's to answer, as a rejection would be.
  app.addHook('onRequest', (request, _reply, done) => {
    request.apiKey = OPEN_KEY;
    // Read per request: a reload may add the first keys (or remove the last) without a restart.
    if (!auth.required || isPublicRoute(request)) return done();
    const key = auth.authenticate({ authorization: request.headers.authorization, apiKey: request.headers['x-api-key'] });
    request.apiKey = key;
    request.tenant = key.tenant;
    const { url: route, config } = routeOf(request);
    if (route === undefined) return done(); // no such route: a 404 once authenticated
    if (config?.operator) auth.requireOperator(key, route);
    else auth.authorizeRoute(key, route);
    done();
  });
}
