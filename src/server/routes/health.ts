import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ModelRuntime } from '../../models/runtime.js';
import type { Metrics } from '../../observability/metrics.js';
import { sendError } from '../plugins/errors.js';
import { unreadiness, type AdmissionState } from '../front/admission.js';
import { PUBLIC_ROUTE } from '../route-policy.js';
import type { Schemas } from '../schemas.js';

/** Liveness, readiness (models loaded and warmed, not draining) and the Prometheus scrape. */
export function registerOperationalRoutes(app: FastifyInstance, deps: { models: ModelRuntime; metrics: Metrics }, state: AdmissionState, s: Schemas): void {
  app.get(
    '/healthz',
    { config: PUBLIC_ROUTE, schema: { summary: 'Liveness', tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  const readySchema = {
    summary: 'Readiness: 200 once every model is loaded and warmed',
    tags: ['operations'],
    response: {
      200: Type.Object({ status: Type.Literal('ready'), models: Type.Array(Type.String()) }),
      503: { ...s.Error, 'x-response-description': 'Models are loading, or the server is shutting down: retry after Retry-After seconds' },
    },
  };
  app.get('/readyz', { config: PUBLIC_ROUTE, schema: readySchema }, async (request, reply) => {
    const notReady = unreadiness(state);
    if (notReady) return sendError(request, reply, notReady);
    return { status: 'ready', models: deps.models.list().map((m) => m.name) };
  });

  const metricsSchema = {
    summary: 'Prometheus metrics (see docs/METRICS.md)',
    tags: ['operations'],
    produces: ['text/plain'],
    response: { 200: { type: 'string', description: 'Prometheus text exposition format' } },
  };
  app.get('/metrics', { config: PUBLIC_ROUTE, schema: metricsSchema }, async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
