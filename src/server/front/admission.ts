import type { Config } from '../../config/schema.js';
import { ProntoError } from '../../core/errors.js';
import type { Metrics } from '../../observability/metrics.js';

export interface AdmissionState {
  readonly ready: boolean;
  /** SIGTERM received: still serving, but telling load balancers (and keep-alive clients) to go. */
  readonly draining: boolean;
  readonly shuttingDown: boolean;
}

export interface Admission {
  /** Admits one request or throws (503 + Retry-After); call the returned function when it ends. */
  admit(): () => void;
  /** Refuses a request because the event loop lags (measured by the HTTP app's under-pressure). */
  refuseLagging(reason?: string): never;
}

/** Why the service cannot take work now (what /readyz and the gRPC health service report), if it cannot. */
export function unreadiness(state: AdmissionState): ProntoError | undefined {
  if (state.draining || state.shuttingDown) return new ProntoError('shutting_down', undefined, { retryAfterS: 1 });
  if (!state.ready) return notReady();
  return undefined;
}

const notReady = () => new ProntoError('not_ready', 'Models are loading; retry shortly', { retryAfterS: 1 });

/**
 * The one admission for every transport: API work is refused at once while models are loading,
 * while shutting down, or when more requests are in flight than configured (HTTP and gRPC
 * together); a refusal costs microseconds instead of a request that queues and then misses its
 * deadline.
 */
export function createAdmission(config: Config['server'], metrics: Metrics, state: AdmissionState): Admission {
  let inFlight = 0;
  const refuse = (reason: string, error: ProntoError): never => {
    metrics.rejections.inc({ reason });
    throw error;
  };
  return {
    admit() {
      // A draining process still serves (its readiness already sends load balancers elsewhere).
      if (state.shuttingDown) refuse('shutting_down', new ProntoError('shutting_down', undefined, { retryAfterS: 1 }));
      if (!state.ready) refuse('not_ready', notReady());
      if (inFlight >= config.max_in_flight) refuse('in_flight_limit', new ProntoError('overloaded', 'Too many requests in flight', { retryAfterS: 1 }));
      inFlight++;
      metrics.inFlight.set(inFlight);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        inFlight--;
        metrics.inFlight.set(inFlight);
      };
    },
    refuseLagging(reason = 'event_loop_delay') {
      return refuse(reason, new ProntoError('overloaded', 'The server is saturated (event loop lagging); retry shortly', { retryAfterS: 1 }));
    },
  };
}
