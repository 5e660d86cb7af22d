import type { FastifyInstance } from 'fastify';
import type { KeyLimiters } from '../front/key-limits.js';
import { routeOf } from '../route-policy.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Whether this request opens an answer stream (SSE, a WebSocket), given its parsed body. */
    stream?: (body: unknown) => boolean;
  }
}

/**
 * Holds one of the caller key's stream slots (limits.concurrent_streams) for as long as each answer
 * stream is open: an SSE response until it ends, a WebSocket until it closes. Refused with 429
 * before the stream starts (and before a WebSocket upgrade is accepted).
 */
export function registerStreamLimit(app: FastifyInstance, limiters: KeyLimiters): void {
  app.addHook('preHandler', async (request, reply) => {
    const opens = routeOf(request).config?.stream;
    if (!opens?.(request.body) || request.apiKey.limits.concurrent_streams === undefined) return;
    const release = await limiters.openStream(request.apiKey);
    // A WebSocket outlives its upgrade response: its slot is freed with the socket.
    (request.ws ? request.raw.socket : reply.raw).once('close', release);
  });
}
