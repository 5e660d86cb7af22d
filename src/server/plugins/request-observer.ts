import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { RecentRequests } from '../../observability/recent-requests.js';
import type { RequestLog } from '../../observability/request-log.js';
import type { RequestSummary } from '../../observability/recent-requests.js';
import { traceIdOf } from '../../observability/tracing.js';
import { isOperationalRoute } from '../route-policy.js';

/**
 * What every answered request leaves behind: one log line (info; debug for operational routes), a
 * warning with the stage breakdown when it ran past `observability.slow_request_ms`, its summary in
 * the dashboard's request view, and (sampled) its redacted record in the request log.
 */
export interface RequestObserverDeps {
  config: Pick<Config, 'observability'>;
  logger: Logger;
  recentRequests: RecentRequests;
  requestLog: RequestLog;
}

export function registerRequestObserver(app: FastifyInstance, deps: RequestObserverDeps): void {
  const { config, logger } = deps;
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    const summary = summarise(request, route, reply.statusCode, ms);
    const line = {
      request_id: request.id,
      method: request.method,
      route,
      status: reply.statusCode,
      ms,
      tenant: request.tenant,
      trace_id: summary.trace_id,
    };
    // Probes, scrapes, docs and the dashboard's own polling: at debug, so they don't drown the requests.
    if (isOperationalRoute(request)) request.log.debug(line, 'request');
    else request.log.info({ ...line, degraded: summary.degraded.length || undefined }, 'request');
    if (!request.ctx) return;
    if (ms > config.observability.slow_request_ms) {
      logger.warn({ ...line, timings: summary.timings, degraded: summary.degraded }, 'slow request');
    }
    deps.recentRequests.add(summary);
    deps.requestLog.record(summary, request.ctx.transcript);
  });
}

function summarise(request: FastifyRequest, route: string, status: number, ms: number): RequestSummary {
  const ctx = request.ctx;
  return {
    request_id: request.id,
    at: Date.now() - ms,
    tenant: request.tenant,
    method: request.method,
    route,
    status,
    latency_ms: ms,
    timings: Object.fromEntries(Object.entries(ctx?.timings ?? {}).map(([stage, t]) => [stage, Math.round(t * 100) / 100])),
    degraded: ctx?.degraded ?? [],
    trace_id: traceIdOf(ctx?.trace),
  };
}
