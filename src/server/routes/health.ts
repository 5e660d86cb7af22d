import type { FastifyInstance } from 'fastify';
import { ProntoError } from '../../core/errors.js';
import type { Runtime } from '../../runtime.js';
import { sendError } from '../plugins/errors.js';
import type { AdmissionState } from '../plugins/admission.js';

/** Liveness, readiness (models loaded and warmed, not draining) and the Prometheus scrape. */
export function registerOperationalRoutes(app: FastifyInstance, runtime: Runtime, state: AdmissionState): void {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['operations'] } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: 200 once every model is loaded and warmed', tags: ['operations'] } },
    async (request, reply) => {
      if (state.draining || state.shuttingDown)
        return sendError(request, reply, new ProntoError('shutting_down', undefined, { retryAfterS: 1 }));
      if (!state.ready) return sendError(request, reply, new ProntoError('not_ready', 'Models are loading', { retryAfterS: 1 }));
      return { status: 'ready', models: runtime.models.list().map((m) => m.name) };
    },
  );

  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (see docs/METRICS.md)', tags: ['operations'] } },
    async (_request, reply) => {
      reply.header('content-type', runtime.metrics.registry.contentType);
      return runtime.metrics.registry.metrics();
    },
  );
}
