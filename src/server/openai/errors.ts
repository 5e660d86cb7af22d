import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * OpenAI's error `type` for a status: the SDKs and LangChain read `type` and `param` beside the
 * status to pick and fill their exception classes.
 */
export function openAIErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/**
 * An `onSend` hook for the OpenAI-compatible routes: every error body (`{"error":{code, message,
 * field?}}`, whichever plugin or handler sent it) also carries OpenAI's `type` and `param`.
 */
export async function withOpenAIErrorFields(_request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
  let body: { error?: Record<string, unknown> };
  try {
    body = JSON.parse(payload) as typeof body;
  } catch {
    return payload;
  }
  if (!body.error || typeof body.error !== 'object') return payload;
  return JSON.stringify(openAIErrorBody(reply.statusCode, body as { error: Record<string, unknown> }));
}

/** pronto's error body with OpenAI's `type` and `param` added (`param` is pronto's `field`, or null). */
export function openAIErrorBody(status: number, body: { error: Record<string, unknown> }): { error: Record<string, unknown> } {
  return { error: { ...body.error, type: openAIErrorType(status), param: body.error.field ?? null } };
}
