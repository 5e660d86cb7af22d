import { Type, type Static } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { DEFAULT_VARIANT } from '../../config/variants.js';
import { ProntoError } from '../../core/errors.js';
import type { Redactor } from '../../core/redact.js';
import type { FeedbackSink } from '../../observability/feedback.js';
import type { RequestLedger } from '../../observability/request-ledger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { RequestLog } from '../../observability/request-log.js';
import { isOperationalRoute } from '../route-policy.js';
import { errorResponses, type Schemas } from '../schemas.js';

export interface FeedbackRouteDeps {
  feedback: FeedbackSink;
  requests: RequestLedger;
  redactor: Redactor;
  metrics: Metrics;
  requestLog: RequestLog;
}

/**
 * `POST /v1/feedback`: a rating for an earlier answer, joined to it by request id. Only the tenant
 * that made the request may rate it: every successful API request is remembered with its tenant.
 */
export function registerFeedbackRoute(app: FastifyInstance, deps: FeedbackRouteDeps, s: Schemas): void {
  app.addHook('onResponse', (request, reply, done) => {
    if (!isOperationalRoute(request) && reply.statusCode < 400) {
      rememberRequest(deps.requests, { tenant: request.tenant, requestId: request.id, variant: request.ctx?.variant ?? DEFAULT_VARIANT }, request.log);
    }
    done();
  });

  const Body = Type.Object(
    {
      request_id: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$', description: 'The x-request-id of the answer' }),
      rating: Type.Integer({ minimum: -1, maximum: 5, description: '-1/1 for thumbs down/up, or 1-5 stars' }),
      comment: Type.Optional(Type.String({ maxLength: 4000 })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof Body> }>(
    '/v1/feedback',
    {
      schema: {
        summary: 'Rate an answer',
        tags: ['answers'],
        body: Body,
        response: { 202: Type.Object({ status: Type.Literal('accepted') }), ...errorResponses(s, [400, 401, 404, 413, 415, 429, 503]) },
      },
    },
    async (request, reply) => {
      const { request_id, rating, comment } = request.body;
      const variant = await deps.requests.variantOf(request.tenant, request_id);
      if (variant === undefined) {
        // The same answer whether the id is unknown or another tenant's: ids reveal nothing.
        throw new ProntoError('not_found', `No request ${request_id} of yours to rate`, { field: 'request_id' });
      }
      const record = {
        request_id,
        tenant: request.tenant,
        rating,
        comment: comment === undefined ? undefined : deps.redactor.redact(comment),
        received_at: new Date().toISOString(),
        variant,
      };
      await deps.feedback.add(record);
      deps.requestLog.feedback({ request_id, tenant: record.tenant, rating, comment: record.comment, at: record.received_at });
      deps.metrics.feedback.inc({ rating: String(rating), variant });
      return reply.status(202).send({ status: 'accepted' as const });
    },
  );
}

/**
 * Remembers a successful API request (HTTP or gRPC) with its tenant, so that tenant alone may rate
 * it. Off the response path: a ledger write that fails only means that request cannot be rated.
 */
export function rememberRequest(
  requests: RequestLedger,
  { tenant, requestId, variant }: { tenant: string; requestId: string; variant: string },
  log: Pick<FastifyBaseLogger, 'warn'>,
): void {
  requests.remember(tenant, requestId, variant).catch((err: Error) => log.warn({ err: err.message, request_id: requestId }, 'request ledger write failed'));
}
