import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.js';
import { ProntoError } from '../../core/errors.js';
import { createRequestContext } from '../../pipeline/context.js';
import type { RequestContext } from '../../pipeline/types.js';
import { endSpan, traceIdOf, type Tracing } from '../../observability/tracing.js';
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
    const { span, context } = tracing.startRequest(`${request.method} ${request.routeOptions.url}`, request.headers, {
      'http.request.method': request.method,
      'http.route': request.routeOptions.url ?? '',
      'pronto.request_id': request.id,
      'pronto.tenant': request.tenant,
    });
    const traceId = traceIdOf(context);
    if (traceId) request.log = request.log.child({ trace_id: traceId });
    const ctx = createRequestContext({
      logger: request.log,
      tenant: request.tenant,
      deadlineMs: deadlineFor(request, config),
      requestId: request.id,
      trace: context,
    });
    request.ctx = ctx;
    reply.raw.once('close', () => {
      span.setAttribute('pronto.degraded', ctx.degraded.map((d) => `${d.stage}:${d.fallback}`).join(','));
      endSpan(span, reply.statusCode < 500 ? 'ok' : String(reply.statusCode), { 'http.response.status_code': reply.statusCode });
    });
    const onClose = () => {
      if (!reply.raw.writableFinished) ctx.deadline.cancel();
    };
    reply.raw.once('close', onClose);
  });
  app.addHook('onResponse', async (request) => request.ctx?.deadline.dispose());
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.ctx && !reply.hasHeader('server-timing')) reply.header('server-timing', serverTiming(request.ctx));
    return payload;
  });
}

/** Routes whose handler waits for bulk model capacity (`config: { budget: 'ingest' }`). */
function isIngest(request: FastifyRequest): boolean {
  return request.routeOptions.config?.budget === 'ingest';
}

function deadlineFor(request: FastifyRequest, config: Config): number {
  const ingest = isIngest(request);
  const maxMs = ingest ? Math.max(config.deadline.max_ms, config.deadline.ingest_ms) : config.deadline.max_ms;
  const asked = request.headers[DEADLINE_HEADER];
  if (asked === undefined) return ingest ? config.deadline.ingest_ms : config.deadline.default_ms;
  const ms = Number(asked);
  if (typeof asked !== 'string' || !Number.isFinite(ms) || ms <= 0) {
    throw new ProntoError('invalid_input', `${DEADLINE_HEADER} must be a positive number of milliseconds`, {
      field: DEADLINE_HEADER,
    });
  }
  return Math.min(ms, maxMs);
}

/** `Server-Timing: sanitize;dur=0.1, embed;dur=4.2, ..., total;dur=12.3` */
export function serverTiming(ctx: RequestContext): string {
  const parts = Object.entries(ctx.timings).map(([stage, ms]) => `${stage};dur=${ms.toFixed(1)}`);
  parts.push(`total;dur=${(performance.now() - ctx.startedAt).toFixed(1)}`);
  return parts.join(', ');
}
