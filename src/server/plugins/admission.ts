import fastifyUnderPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.js';
import { ProntoError } from '../../core/errors.js';
import type { Metrics } from '../../observability/metrics.js';
import { isOperationalRoute } from '../route-policy.js';

export interface AdmissionState {
  readonly ready: boolean;
  /** SIGTERM received: still serving, but telling load balancers (and keep-alive clients) to go. */
  readonly draining: boolean;
  readonly shuttingDown: boolean;
}

/**
 * The front door: API work (every route not marked operational) is refused at once (503 + Retry-After) while models are loading, while
 * shutting down, when more requests are in flight than configured, or while the event loop lags
 * (@fastify/under-pressure); a refusal costs microseconds instead of a request that queues and
 * then misses its deadline.
 */
export async function registerAdmission(
  app: FastifyInstance,
  config: Config['server'],
  metrics: Metrics,
  state: AdmissionState,
): Promise<void> {
  if (config.max_event_loop_delay_ms > 0) {
    await app.register(fastifyUnderPressure, {
      maxEventLoopDelay: config.max_event_loop_delay_ms,
      // under-pressure reads a window in which its 10 ms lag timer never ran as infinite lag (a
      // NaN mean), so any stall longer than the window sheds the next window's requests, whatever
      // the limit: with a 100 ms window, every 300 ms batch on the loop shed work under a 2 s
      // limit. A window as long as the limit makes that happen only for a stall that long.
      sampleInterval: Math.max(100, config.max_event_loop_delay_ms),
      // Probes and scrapes stay answered (a pod that lags is busy, not dead); only API work is shed.
      pressureHandler: (request, _reply, type) => {
        if (isOperationalRoute(request)) return;
        metrics.rejections.inc({ reason: type === 'eventLoopDelay' ? 'event_loop_delay' : type });
        throw new ProntoError('overloaded', 'The server is saturated (event loop lagging); retry shortly', { retryAfterS: 1 });
      },
    });
  }
  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    // A draining process closes each connection after its response: clients reconnect through
    // the load balancer, to a replica that stays.
    if (state.draining) reply.header('connection', 'close');
    if (isOperationalRoute(request)) return;
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
