import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.js';
import { ProntoError } from '../../core/errors.js';
import type { Metrics } from '../../observability/metrics.js';

export interface AdmissionState {
  readonly ready: boolean;
  readonly shuttingDown: boolean;
}

/**
 * The front door: /v1 work is refused at once (503 + Retry-After) while models are loading, while
 * shutting down, or when more requests are in flight than configured; a refusal costs microseconds
 * instead of a request that queues and then misses its deadline.
 */
export function registerAdmission(app: FastifyInstance, config: Config['server'], metrics: Metrics, state: AdmissionState): void {
  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return;
    if (state.shuttingDown) {
      metrics.rejections.inc({ reason: 'shutting_down' });
      throw new ProntoError('shutting_down', undefined, { retryAfterS: 1 });
    }
    if (!state.ready) {
      metrics.rejections.inc({ reason: 'not_ready' });
      throw new ProntoError('not_ready', 'Models are loading; retry shortly', { retryAfterS: 1 });
    }
    if (inFlight >= config.max_in_flight) {
      metrics.rejections.inc({ reason: 'in_flight_limit' });
      throw new ProntoError('overloaded', 'Too many requests in flight', { retryAfterS: 1 });
    }
    inFlight++;
    metrics.inFlight.set(inFlight);
    // 'close' fires once per response, whether it finished or the client went away mid-stream.
    reply.raw.once('close', () => {
      inFlight--;
      metrics.inFlight.set(inFlight);
    });
  });
}
