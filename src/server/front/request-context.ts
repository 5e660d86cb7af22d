import type { ApiKeyRecord } from '../../config/auth.js';
import type { Config } from '../../config/schema.js';
import { createRequestContext } from '../../pipeline/context.js';
import type { ContextLogger, RequestContext, TokenBudget } from '../../pipeline/types.js';
import { endSpan, traceIdOf, type Tracing } from '../../observability/tracing.js';

/** A logger that makes children of its own kind (pino's, Fastify's request logger). */
export type RequestLogger<L> = ContextLogger & { child(bindings: Record<string, unknown>): L };

export interface OpenRequestOptions<L extends RequestLogger<L>> {
  /** The server span's name: `POST /v1/search`, `/pronto.v1.Pronto/Search`. */
  name: string;
  /** Headers or gRPC metadata, for the caller's `traceparent`. */
  carrier: Record<string, unknown>;
  attributes: Record<string, string>;
  logger: L;
  /** The caller's key: its tenant scopes the work, its namespaces limit it. */
  apiKey: ApiKeyRecord;
  /** The key's generated-token budget (KeyLimiters.tokenBudget). */
  tokenBudget?: TokenBudget;
  requestId: string;
  /** The request's deadline, from what the client asked (see requestDeadlineMs). */
  deadlineMs: number;
  /** The pipeline variant chosen for it (routes that split none: `default`). */
  variant?: string;
}

export interface OpenRequest<L> {
  ctx: RequestContext;
  /** The given logger, with the trace id when the request is sampled (so log lines join traces). */
  logger: L;
  /** Ends the request's span with its outcome and frees its deadline timer. */
  finish(outcome: string, attributes?: Record<string, string | number>): void;
}

/**
 * Opens an API request's pipeline context, whatever the transport: its deadline (the client's,
 * never more than deadline.max_ms), its trace span continuing the caller's, its logger.
 */
export function openRequest<L extends RequestLogger<L>>(tracing: Tracing, options: OpenRequestOptions<L>): OpenRequest<L> {
  const { span, context } = tracing.startRequest(options.name, options.carrier, {
    ...options.attributes,
    'pronto.request_id': options.requestId,
    'pronto.tenant': options.apiKey.tenant,
    ...(options.variant === undefined ? {} : { 'pronto.variant': options.variant }),
  });
  const traceId = traceIdOf(context);
  const logger = traceId ? options.logger.child({ trace_id: traceId }) : options.logger;
  const ctx = createRequestContext({
    logger,
    tenant: options.apiKey.tenant,
    namespaces: options.apiKey.namespaces,
    tokenBudget: options.tokenBudget,
    deadlineMs: options.deadlineMs,
    requestId: options.requestId,
    variant: options.variant,
    trace: context,
  });
  let finished = false;
  return {
    ctx,
    logger,
    finish(outcome, attributes = {}) {
      if (finished) return;
      finished = true;
      span.setAttribute('pronto.degraded', ctx.degraded.map((d) => `${d.stage}:${d.fallback}`).join(','));
      endSpan(span, outcome, attributes);
      ctx.deadline.dispose();
    },
  };
}

/**
 * The deadline a request gets, whatever the transport: what it asked for, capped by
 * deadline.max_ms, or the default; an `ingest` request (bulk model work) defaults to
 * deadline.ingest_ms and may ask up to it.
 */
export function requestDeadlineMs(config: Config, askedMs: number | undefined, budget?: 'ingest'): number {
  const { default_ms, max_ms, ingest_ms } = config.deadline;
  if (askedMs === undefined) return budget === 'ingest' ? ingest_ms : default_ms;
  return Math.min(askedMs, budget === 'ingest' ? Math.max(max_ms, ingest_ms) : max_ms);
}
