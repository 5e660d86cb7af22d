import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Redactor } from '../../core/redact.js';

/** Where the id travels: HTTP header and gRPC metadata alike. */
export const REQUEST_ID_HEADER = 'x-request-id';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echo the client's `x-request-id` when it is a sane token that carries no PII, else make one. */
export function requestIdGenerator(redactor: Redactor): (request: IncomingMessage) => string {
  return (request) => requestIdOf(request.headers[REQUEST_ID_HEADER], redactor);
}

/**
 * The request id for a given `x-request-id` (HTTP header or gRPC metadata): the client's when it
 * is a sane token that carries no PII (it is logged with every line of the request and stored
 * with feedback: `123-45-6789` is a valid token), else a fresh one.
 */
export function requestIdOf(given: unknown, redactor: Redactor): string {
  return typeof given === 'string' && SAFE_ID.test(given) && redactor.findings(given).length === 0 ? given : randomUUID();
}

export function registerRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
}
