import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { PUBLIC_ROUTE } from '../route-policy.js';

const page = readFileSync(new URL('../../ui/dashboard.html', import.meta.url), 'utf8');

/** `GET /`: the dashboard, one static page that talks to the public API. */
export function registerDashboardRoute(app: FastifyInstance): void {
  const schema = {
    summary: 'The dashboard (HTML)',
    tags: ['operations'],
    produces: ['text/html'],
    response: { 200: { type: 'string', description: 'The dashboard page' } },
  };
  app.get('/', { config: PUBLIC_ROUTE, schema }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
}
