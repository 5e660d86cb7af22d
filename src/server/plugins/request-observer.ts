import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { RecentRequests } from '../../observability/recent-requests.js';
import type { RequestLog } from '../../observability/request-log.js';
import type { RequestSummary, StepSummary } from '../../observability/recent-requests.js';
import { traceIdOf } from '../../observability/tracing.js';
import type { RequestContext, StepEvent } from '../../pipeline/types.js';
import { isOperationalRoute, routeOf } from '../route-policy.js';
import { splitVariantOf } from './request-context.js';

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

/** One answered request, whatever the transport (an HTTP route, a gRPC method). */
export interface ObservedRequest {
  id: string;
  /** The HTTP method, or `GRPC`. */
  method: string;
  /** The route template (`/v1/documents/:id`), the gRPC method path, or `unmatched`. */
  route: string;
  /** The HTTP status (for gRPC: the HTTP status of the same outcome). */
  status: number;
  ms: number;
  tenant: string;
  /** The pipeline variant, on the routes variants split. */
  variant?: string;
  operational: boolean;
  ctx?: RequestContext;
  log: Pick<Logger, 'info' | 'debug'>;
}

export function registerRequestObserver(app: FastifyInstance, deps: RequestObserverDeps): void {
  app.addHook('onResponse', (request, reply, done) => {
    observeRequest(deps, {
      id: request.id,
      method: request.method,
      route: routeOf(request).url ?? 'unmatched',
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      tenant: request.tenant,
      variant: splitVariantOf(request),
      operational: isOperationalRoute(request),
      ctx: request.ctx,
      log: request.log,
    });
    done();
  });
}

/** What an answered request leaves behind (see RequestObserverDeps); the gRPC front calls it per call. */
export function observeRequest(deps: RequestObserverDeps, request: ObservedRequest): void {
  const { config, logger } = deps;
  const { ctx, ms } = request;
  const summary = summarise(request);
  const line = {
    request_id: request.id,
    method: request.method,
    route: request.route,
    status: request.status,
    ms,
    tenant: request.tenant,
    variant: request.variant,
    trace_id: summary.trace_id,
  };
  // Probes, scrapes, docs and the dashboard's own polling: at debug, so they don't drown the requests.
  if (request.operational) request.log.debug(line, 'request');
  else request.log.info({ ...line, degraded: summary.degraded.length || undefined }, 'request');
  if (!ctx) return;
  if (ms > config.observability.slow_request_ms) {
    logger.warn({ ...line, timings: summary.timings, degraded: summary.degraded }, 'slow request');
  }
  deps.recentRequests.add(summary);
  deps.requestLog.record(summary, ctx.transcript);
}

function summarise(request: ObservedRequest): RequestSummary {
  const { ctx, ms } = request;
  return {
    request_id: request.id,
    at: Date.now() - ms,
    tenant: request.tenant,
    method: request.method,
    route: request.route,
    status: request.status,
    latency_ms: ms,
    timings: Object.fromEntries(Object.entries(ctx?.timings ?? {}).map(([stage, t]) => [stage, Math.round(t * 100) / 100])),
    degraded: ctx?.degraded ?? [],
    trace_id: traceIdOf(ctx?.trace),
    variant: request.variant,
    ...(ctx?.steps?.length ? { steps: ctx.steps.map(stepSummaryOf) } : {}),
  };
}

/** A step without the question's parts (or a tool's arguments): the request view holds no body text. */
function stepSummaryOf(step: StepEvent): StepSummary {
  const { name, kind, status, start_ms, ms, part, ids, degraded } = step;
  return { name, kind, status, start_ms, ms, part, ids, degraded };
}
