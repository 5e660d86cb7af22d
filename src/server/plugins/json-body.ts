import type { FastifyInstance } from 'fastify';
import { ProntoError } from '../../core/errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON bodies are decoded as strict UTF-8: Fastify's own parser would silently turn invalid bytes
 * into U+FFFD and we would embed and store garbage. Parsing itself stays Fastify's (secure-json-parse,
 * proto-poisoning safe).
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // JSON is the only body we take: anything else is a 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body as Buffer);
    } catch {
      done(new ProntoError('invalid_utf8'), undefined);
      return;
    }
    if (text.trim() === '') {
      done(new ProntoError('invalid_json', 'The request body is empty'), undefined);
      return;
    }
    if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
      done(nestedTooDeep(), undefined);
      return;
    }
    parseJson(request, text, (err, parsed) => {
      if (err) done(parseFailure(text), undefined);
      else done(null, parsed);
    });
  });
}

/**
 * The deepest nesting of arrays and objects a body may have. No request shape needs more than a
 * handful of levels, and what reads a body (redaction of metadata and job input, validation) walks
 * it recursively: 20,000 nested arrays overflowed the stack and answered 500.
 */
export const MAX_JSON_DEPTH = 32;

/** The refusal of a body nested deeper than MAX_JSON_DEPTH (JSON over HTTP, Structs over gRPC). */
export function nestedTooDeep(): ProntoError {
  return new ProntoError('invalid_input', `The request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
}

/** One pass over the JSON text (strings skipped), before anything is built from it. */
function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Says what is wrong with a body Fastify's parser refused: the syntax error and where it is, or,
 * for JSON that parses, the `__proto__` / `constructor.prototype` key it refuses (prototype
 * poisoning); Fastify's own message says only "Body is not valid JSON" for both.
 */
function parseFailure(text: string): ProntoError {
  try {
    JSON.parse(text);
  } catch (err) {
    return new ProntoError('invalid_json', `The request body is not valid JSON: ${(err as Error).message}`);
  }
  return new ProntoError('invalid_input', 'The request body has a "__proto__" or "constructor.prototype" key, which is refused (prototype poisoning)');
}
