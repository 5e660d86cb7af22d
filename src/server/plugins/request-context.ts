import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.js';
import { ProntoError } from '../../core/errors.js';
import type { RequestContext } from '../../pipeline/types.js';
import type { Tracing } from '../../observability/tracing.js';
import { openRequest, requestDeadlineMs } from '../front/request-context.js';
import { isOperationalRoute } from '../route-policy.js';

export const DEADLINE_HEADER = 'x-pronto-deadline-ms';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `ingest`: the request gets `deadline.ingest_ms` instead of the interactive default. */
    budget?: 'ingest';
  }
}

/**
 * Gives each API request (every route not marked operational) its pipeline context: a deadline (the configured default, or less when the
 * client asks with `x-pronto-deadline-ms`), and cancellation when the client goes away before the
 * response is done, so queued model work for it is dropped and generation stops.
 */
export function registerRequestContext(app: FastifyInstance, config: Config, tracing: Tracing): void {
  app.decorateRequest('ctx', undefined);
  app.addHook('preHandler', async (request, reply) => {
    if (isOperationalRoute(request)) return;
    const opened = openRequest(tracing, {
      name: `${request.method} ${request.routeOptions.url}`,
      carrier: request.headers,
      attributes: { 'http.request.method': request.method, 'http.route': request.routeOptions.url ?? '' },
      logger: request.log,
      tenant: request.tenant,
      requestId: request.id,
      deadlineMs: deadlineFor(request, config),
    });
    request.ctx = opened.ctx;
    request.log = opened.logger;
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) opened.ctx.deadline.cancel();
      opened.finish(reply.statusCode < 500 ? 'ok' : String(reply.statusCode), { 'http.response.status_code': reply.statusCode });
    });
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.ctx && !reply.hasHeader('server-timing')) reply.header('server-timing', serverTiming(request.ctx));
    return payload;
  });
}

function deadlineFor(request: FastifyRequest, config: Config): number {
  // Routes whose handler waits for bulk model capacity (`config: { budget: 'ingest' }`).
  const budget = request.routeOptions.config?.budget;
  const asked = request.headers[DEADLINE_HEADER];
  if (asked === undefined) return requestDeadlineMs(config, undefined, budget);
  const ms = Number(asked);
  if (typeof asked !== 'string' || !Number.isFinite(ms) || ms <= 0) {
    throw new ProntoError('invalid_input', `${DEADLINE_HEADER} must be a positive number of milliseconds`, {
      field: DEADLINE_HEADER,
    });
  }
  return requestDeadlineMs(config, ms, budget);
}

/** `Server-Timing: sanitize;dur=0.1, embed;dur=4.2, ..., total;dur=12.3` */
export function serverTiming(ctx: RequestContext): string {
  const parts = Object.entries(ctx.timings).map(([stage, ms]) => `${stage};dur=${ms.toFixed(1)}`);
  parts.push(`total;dur=${(performance.now() - ctx.startedAt).toFixed(1)}`);
  return parts.join(', ');
}
