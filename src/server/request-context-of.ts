import type { FastifyRequest } from 'fastify';
import { ProntoError } from '../core/errors.js';
import type { ChatMessage } from '../models/types.js';
import type { RequestContext } from '../pipeline/types.js';
import type { Hit } from '../retrieval/types.js';

/** Response shapes shared by the routes: hits in snake_case, the pipeline report. */
export function presentHit(hit: Hit) {
  return { id: hit.id, doc_id: hit.docId, score: hit.score, text: hit.text, title: hit.title, metadata: hit.metadata };
}

export function pipelineReport(ctx: RequestContext) {
  return {
    latency_ms: Math.round((performance.now() - ctx.startedAt) * 10) / 10,
    timings: roundTimings(ctx.timings),
    degraded: ctx.degraded,
  };
}

function roundTimings(timings: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).map(([stage, ms]) => [stage, Math.round(ms * 100) / 100]));
}

/** The context the request-context plugin made; every /v1 handler has one. */
export function contextOf(request: FastifyRequest): RequestContext {
  if (!request.ctx) throw new ProntoError('internal', 'request has no pipeline context');
  return request.ctx;
}

/** `{messages}` or `{text}` (a one-turn chat); the conversation must end with a user turn. */
export function conversationOf(body: { messages?: ChatMessage[]; text?: string }): ChatMessage[] {
  if (body.messages && body.text !== undefined) {
    throw new ProntoError('invalid_input', 'Send either messages or text, not both', { field: 'messages' });
  }
  const messages = body.messages ?? (body.text !== undefined ? [{ role: 'user' as const, content: body.text }] : undefined);
  if (!messages || messages.length === 0) {
    throw new ProntoError('invalid_input', 'messages (or text) is required', { field: 'messages' });
  }
  if (messages[messages.length - 1].role !== 'user') {
    throw new ProntoError('invalid_input', 'The last message must be from the user', {
      field: `messages[${messages.length - 1}].role`,
    });
  }
  return messages;
}
