import type { ApiKeyRecord, KeyLimits } from '../../config/auth.js';
import { ProntoError } from '../../core/errors.js';

type ShapingLimit = 'max_body_bytes' | 'max_text_chars' | 'max_top_k' | 'max_tokens';

/**
 * A key's own caps on what one request may ask for (`limits.max_*`), checked after the global
 * limits (config `limits`, `retrieval.max_top_k`, `server.body_limit_bytes`) have passed: a key can
 * only narrow them. The same decision for HTTP bodies, WebSocket frames and gRPC requests; the
 * refusal names the field, the key and its limit, with the status its global twin has (413 for
 * sizes, 400 for numbers), so a client handles both alike.
 */
export function shapeRequest(key: ApiKeyRecord, body: unknown, prefix = ''): void {
  const { max_text_chars, max_top_k, max_tokens } = key.limits;
  if (max_text_chars === undefined && max_top_k === undefined && max_tokens === undefined) return;
  if (typeof body !== 'object' || body === null) return;
  const fields = body as Record<string, unknown>;
  const at = (name: string) => (prefix ? `${prefix}.${name}` : name);
  for (const [field, text] of textsOf(fields, at)) {
    if (max_text_chars !== undefined && text.length > max_text_chars) {
      throw overKeyLimit(key, 'max_text_chars', field, `${field} is ${text.length} characters`);
    }
  }
  const topK = fields.top_k;
  if (max_top_k !== undefined && typeof topK === 'number' && topK > max_top_k) {
    throw overKeyLimit(key, 'max_top_k', at('top_k'), `top_k is ${topK}`);
  }
  for (const name of ['max_tokens', 'max_completion_tokens']) {
    const asked = fields[name];
    if (max_tokens !== undefined && typeof asked === 'number' && asked > max_tokens) {
      throw overKeyLimit(key, 'max_tokens', at(name), `${name} is ${asked}`);
    }
  }
  // A job's input is the body of the route it mirrors (`input.text`, `input.top_k`).
  if (typeof fields.input === 'object' && fields.input !== null && !Array.isArray(fields.input)) {
    shapeRequest(key, fields.input, at('input'));
  }
}

/** The body's texts a model reads, with their field paths: questions, queries, messages, inputs to embed. */
function textsOf(fields: Record<string, unknown>, at: (name: string) => string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  for (const name of ['text', 'query']) {
    if (typeof fields[name] === 'string') found.push([at(name), fields[name]]);
  }
  // `texts` (embed jobs, gRPC Embed) and the OpenAI embeddings `input` (a string or strings).
  for (const name of ['texts', 'input']) {
    const value = fields[name];
    if (typeof value === 'string') found.push([at(name), value]);
    else if (Array.isArray(value)) value.forEach((item, i) => typeof item === 'string' && found.push([`${at(name)}[${i}]`, item]));
  }
  if (Array.isArray(fields.messages)) {
    fields.messages.forEach((message: unknown, i) => {
      const content = (message as { content?: unknown } | null)?.content;
      const field = `${at('messages')}[${i}].content`;
      if (typeof content === 'string') found.push([field, content]);
      // OpenAI's content parts: [{type: "text", text}].
      else if (Array.isArray(content)) {
        content.forEach((part: unknown, j) => {
          const text = (part as { text?: unknown } | null)?.text;
          if (typeof text === 'string') found.push([`${field}[${j}].text`, text]);
        });
      }
    });
  }
  return found;
}

/** Refuses a body (or WebSocket frame) of `bytes` over the key's `max_body_bytes`: 413, as over server.body_limit_bytes. */
export function checkBodyBytes(key: ApiKeyRecord, bytes: number): void {
  const max = key.limits.max_body_bytes;
  if (max !== undefined && bytes > max) throw bodyOverKeyLimit(key, `The request body is ${bytes} bytes`);
}

/** The refusal of a body over the key's `max_body_bytes`, said as `what` (its size, when known). */
export function bodyOverKeyLimit(key: ApiKeyRecord, what = 'The request body is larger'): ProntoError {
  return overKeyLimit(key, 'max_body_bytes', 'body', what);
}

function overKeyLimit(key: ApiKeyRecord, limit: ShapingLimit, field: string, what: string): ProntoError {
  const max = key.limits[limit as keyof KeyLimits] as number;
  const code = limit === 'max_top_k' || limit === 'max_tokens' ? 'invalid_input' : 'payload_too_large';
  return new ProntoError(code, `${what}, over API key "${key.id}"'s limit ${limit} of ${max}`, { field, details: { limit, max } });
}
