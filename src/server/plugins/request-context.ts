import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.js';
import { ProntoError } from '../../core/errors.js';
import type { CacheReport, RequestContext } from '../../pipeline/types.js';
import type { Tracing } from '../../observability/tracing.js';
import { VARIANT_HEADER, type VariantRouter } from '../../pipeline/variants/router.js';
import { OPEN_KEY } from '../front/auth.js';
import type { KeyLimiters } from '../front/key-limits.js';
import { openRequest, requestDeadlineMs } from '../front/request-context.js';
import { variantFor } from '../front/variant.js';
import { isOperationalRoute, routeOf } from '../route-policy.js';

export const DEADLINE_HEADER = 'x-pronto-deadline-ms';
/** `miss`, or where a cached result came from: `memory`, `redis`, `in_flight`; `semantic` for a similar question's answer. */
export const CACHE_HEADER = 'x-pronto-cache';

/** Route config of a route whose requests pipeline variants split (each gets one; see `variant`). */
export const SPLIT_BY_VARIANT = { variant: true } as const;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `ingest`: the request gets `deadline.ingest_ms` instead of the interactive default. */
    budget?: 'ingest';
    /** The route runs a query flow that pipeline variants split (A/B, canary): its request gets one. */
    variant?: boolean;
  }
}

/**
 * Gives each API request (every route not marked operational) its pipeline context: a deadline (the configured default, or less when the
 * client asks with `x-pronto-deadline-ms`), and cancellation when the client goes away before the
 * response is done, so queued model work for it is dropped and generation stops.
 */
export function registerRequestContext(app: FastifyInstance, config: Config, tracing: Tracing, variants: VariantSeat, limiters: KeyLimiters): void {
  app.decorateRequest('ctx', undefined);
  app.addHook('preHandler', (request, reply, done) => {
    if (isOperationalRoute(request)) return done();
    const route = routeOf(request);
    const variant = route.config?.variant ? chooseVariant(request, variants, request.body) : undefined;
    const opened = openRequest(tracing, {
      name: `${request.method} ${route.url}`,
      carrier: request.headers,
      attributes: { 'http.request.method': request.method, 'http.route': route.url ?? '' },
      logger: request.log,
      apiKey: request.apiKey,
      tokenBudget: limiters.tokenBudget(request.apiKey),
      requestId: request.id,
      deadlineMs: deadlineFor(request, config),
      variant,
    });
    request.ctx = opened.ctx;
    request.log = opened.logger;
    if (variant !== undefined) reply.header(VARIANT_HEADER, variant);
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) opened.ctx.deadline.cancel();
      if (variant !== undefined) variants.router.record(variant, reply.statusCode, reply.elapsedTime / 1000);
      opened.finish(reply.statusCode < 500 ? 'ok' : String(reply.statusCode), { 'http.response.status_code': reply.statusCode });
    });
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.ctx && !reply.hasHeader('server-timing')) reply.header('server-timing', serverTiming(request.ctx));
    if (request.ctx?.cache && !reply.hasHeader(CACHE_HEADER)) reply.header(CACHE_HEADER, cacheHeader(request.ctx.cache));
    done(null, payload);
  });
}

/** The variant of a request on a route variants split (none on the others: ingest, jobs, docs...). */
export function splitVariantOf(request: FastifyRequest): string | undefined {
  return routeOf(request).config?.variant ? request.ctx?.variant : undefined;
}

/** The variant router and whether a caller may force a variant (the key's permission). */
export interface VariantSeat {
  router: VariantRouter;
  mayForce(request: FastifyRequest): boolean;
}

/** The variant of an HTTP request (or of one WebSocket frame: `body`), sticky per its `user_id`. */
export function chooseVariant(request: FastifyRequest, { router, mayForce }: VariantSeat, body: unknown): string {
  return variantFor(router, {
    tenant: request.tenant,
    userId: typeof body === 'object' && body !== null ? (body as { user_id?: unknown }).user_id : undefined,
    // Open (no keys): every caller holds the one open key, so the address tells callers apart.
    keyId: request.apiKey === OPEN_KEY ? undefined : request.apiKey.id,
    address: request.ip,
    forced: request.headers[VARIANT_HEADER],
    mayForce: mayForce(request),
  });
}

function deadlineFor(request: FastifyRequest, config: Config): number {
  // Routes whose handler waits for bulk model capacity (`config: { budget: 'ingest' }`).
  const budget = routeOf(request).config?.budget;
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

/** The `x-pronto-cache` value of a request's cache report (HTTP header, gRPC trailer). */
export function cacheHeader(cache: CacheReport): string {
  if (!cache.hit) return 'miss';
  return cache.question === undefined ? (cache.tier ?? 'memory') : 'semantic';
}

/** `Server-Timing: sanitize;dur=0.1, embed;dur=4.2, ..., total;dur=12.3` */
export function serverTiming(ctx: RequestContext): string {
  const parts = Object.entries(ctx.timings).map(([stage, ms]) => `${stage};dur=${ms.toFixed(1)}`);
  parts.push(`total;dur=${(performance.now() - ctx.startedAt).toFixed(1)}`);
  return parts.join(', ');
}
