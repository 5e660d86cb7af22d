import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProntoError, isProntoError } from '../../core/errors.js';
import type { Redactor } from '../../core/redact.js';
import { fromValidation, type ValidationIssue } from '../front/validation.js';

/**
 * Every error leaves as `{"error":{"code","message","field?"}}` with its catalogue status and,
 * for 429/503, a Retry-After. Anything that is not a ProntoError or a Fastify client error is a
 * bug: logged in full, answered 500 without details.
 */
export function registerErrorHandler(app: FastifyInstance, redactor: Redactor): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const pronto =
      error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? new ProntoError('payload_too_large', `The request body is over ${request.routeOptions.bodyLimit} bytes (server.body_limit_bytes)`)
        : toProntoError(error);
    logFailure(request.log, redactor, pronto, error);
    return sendError(request, reply, pronto);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new ProntoError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

/** Longest path parameter the router takes (a 256-character document id, percent-encoded). */
export const MAX_PARAM_LENGTH = 1024;

/**
 * Fastify's `frameworkErrors`: a URL the router cannot decode (`/v1/%ZZ`) or a path parameter over
 * MAX_PARAM_LENGTH is refused before any hook runs; it still gets pronto's error body and request id.
 */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  reply.header('x-request-id', request.id);
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? `A path parameter is longer than ${MAX_PARAM_LENGTH} characters`
      : `The URL path is not valid (a malformed percent-encoding?): ${error.message}`;
  return sendError(request, reply, new ProntoError('invalid_input', message, { field: 'path' }));
}

/**
 * How a failed request is logged, whatever the transport: a bug in full, anything else at debug
 * (its status is on the request's own line).
 * Messages and field paths echo client input (unknown field names, namespaces, ids): the client
 * gets them back as sent, the log gets them redacted.
 */
export function logFailure(
  log: Pick<FastifyBaseLogger, 'debug' | 'error'>,
  redactor: Redactor,
  pronto: ProntoError,
  cause: unknown,
  bindings: Record<string, unknown> = {},
): void {
  if (pronto.status >= 500 && pronto.code === 'internal') log.error({ ...bindings, err: cause }, 'unhandled error');
  else log.debug({ ...bindings, code: pronto.code, field: pronto.field && redactor.redact(pronto.field) }, redactor.redact(pronto.message));
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: ProntoError) {
  if (error.retryAfterS !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterS))));
  const body = error.toBody();
  if (error.code === 'deadline_exceeded' && request.ctx) {
    // Say what was done before the deadline passed, so the client can judge a retry.
    body.error.completed_stages = request.ctx.timings;
    body.error.degraded = request.ctx.degraded;
  }
  return reply.status(error.status).send(body);
}

export function toProntoError(error: unknown): ProntoError {
  if (isProntoError(error)) return error;
  const e = error as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (e.validation && e.validation.length > 0) return fromValidation(e.validation[0], e.validationContext ?? 'body');
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProntoError('payload_too_large', e.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProntoError('unsupported_media_type', e.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ProntoError('invalid_json', e.message);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ProntoError('invalid_input', e.message);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ProntoError('invalid_input', e.message);
  }
  return new ProntoError('internal', undefined, { cause: error });
}
