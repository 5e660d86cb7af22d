import type { FastifyInstance } from 'fastify';

/**
 * One log line per request, naming the route template (`/v1/documents/:id`), not the raw URL,
 * whose ids and namespaces may be PII (even percent-encoded); a URL that matched no route is
 * logged as `unmatched`.
 */
export function registerAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    request.log.info({ method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed');
  });
}
