import fastifyUnderPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.js';
import type { Admission, AdmissionState } from '../front/admission.js';
import { isOperationalRoute } from '../route-policy.js';

/**
 * The front door for HTTP: API work (every route not marked operational) goes through the shared
 * admission (503 + Retry-After while loading, shutting down or at the in-flight limit), and is
 * shed while the event loop lags (@fastify/under-pressure measures the lag; gRPC asks it through
 * `isUnderPressure`).
 */
export async function registerAdmission(app: FastifyInstance, config: Config['server'], admission: Admission, state: AdmissionState): Promise<void> {
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
        admission.refuseLagging(type === 'eventLoopDelay' ? 'event_loop_delay' : type);
      },
    });
  }
  app.addHook('onRequest', (request, reply, done) => {
    // A draining process closes each connection after its response: clients reconnect through
    // the load balancer, to a replica that stays.
    if (state.draining) reply.header('connection', 'close');
    if (isOperationalRoute(request)) return done();
    // 'close' fires once per response, whether it finished or the client went away mid-stream.
    reply.raw.once('close', admission.admit());
    done();
  });
}
