import type { FastifyRequest } from 'fastify';
import { ProntoError } from '../core/errors.js';
import type { RequestContext } from '../pipeline/types.js';

/** The context the request-context plugin made; every /v1 handler has one. */
export function contextOf(request: FastifyRequest): RequestContext {
  if (!request.ctx) throw new ProntoError('internal', 'request has no pipeline context');
  return request.ctx;
}
