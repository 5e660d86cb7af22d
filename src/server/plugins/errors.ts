import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
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
  // An upgrade request's socket is the plugin's to close once answered (its onResponse hook), but
  // a framework error skips the hooks: without this the half-open socket stays counted by the
  // server forever (one per such request) and shutdown waits on it.
  if (request.raw.headers.upgrade !== undefined) {
    const socket = request.raw.socket;
    reply.raw.once('finish', () => socket.destroySoon());
  }
  return sendError(request, reply, new ProntoError('invalid_input', message, { field: 'path' }));
}

/**
 * Fastify's `clientErrorHandler`: bytes Node's HTTP parser refuses before any route sees them (a bad
 * request line, a bad header, bad chunked encoding, headers over the size limit) get pronto's
 * error body, not Fastify's own, then the connection is closed (the stream cannot be trusted past
 * the error). Written as Fastify's and Node's defaults do it, the raw response on the socket.
 */
export function clientError(this: FastifyInstance, err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex): void {
  // A reset connection is gone: there is no one to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const pronto = clientErrorOf(err);
  // Never err.rawPacket: the bytes may hold keys or personal data.
  this.log.debug({ code: err.code, status: pronto.status }, 'malformed HTTP request');
  // Like Node's own handler: a response already under way cannot take a second one.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(pronto.toBody());
    socket.write(
      `HTTP/1.1 ${pronto.status} ${STATUS_CODES[pronto.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

function clientErrorOf(err: NodeJS.ErrnoException & { reason?: string }): ProntoError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ProntoError('headers_too_large', 'The request headers are over the server\'s size limit (16 KiB)');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ProntoError('request_timeout', 'The request was not received in time');
    default:
      // llhttp's reason names what is wrong (`Invalid header value char`) and never echoes input.
      return new ProntoError('invalid_http', `The request is not valid HTTP/1.1: ${err.reason ?? err.message} (${err.code ?? 'parse error'})`);
  }
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
