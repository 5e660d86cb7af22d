import { invalidInput, type ProntoError } from '../core/errors.js';

/** Document ids: no `#` (chunk ids are `${docId}#${n}`), no whitespace or control characters. */
export const DOC_ID_PATTERN = /^[A-Za-z0-9._:@/+=~-]{1,256}$/;
const MAX_METADATA_KEYS = 64;
const MAX_KEY_LENGTH = 64;
/** A document title's length (the HTTP schema and file ingest alike). */
export const MAX_TITLE_CHARS = 1000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string has no lone surrogates, i.e. encodes to valid UTF-8 (String#isWellFormed, typed for ES2022). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/**
 * Checks one document before anything is written. Returns the error (naming the field under
 * `documents[i]`) rather than throwing, so one bad document never fails the rest of its batch.
 */
export function validateDocument(doc: unknown, index: number, maxChars: number): ProntoError | undefined {
  const at = (field: string) => `documents[${index}]${field ? '.' + field : ''}`;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return invalidInput(at(''), 'a document is an object');
  const { id, text, title, metadata } = doc as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!['id', 'text', 'title', 'metadata'].includes(key)) return invalidInput(at(key), `unknown field "${key}"`);
  }
  if (typeof id !== 'string' || !DOC_ID_PATTERN.test(id)) {
    return invalidInput(at('id'), 'id is 1-256 characters of letters, digits and . _ : @ / + = ~ -');
  }
  const textError = checkText(text, maxChars);
  if (textError) return invalidInput(at('text'), textError);
  if (title !== undefined) {
    if (typeof title !== 'string' || title.length > MAX_TITLE_CHARS || !isWellFormed(title)) {
      return invalidInput(at('title'), `title is a string of valid UTF-8, at most ${MAX_TITLE_CHARS} characters`);
    }
  }
  if (metadata !== undefined) return checkMetadata(metadata, at('metadata'));
  return undefined;
}

function checkText(text: unknown, maxChars: number): string | undefined {
  if (typeof text !== 'string') return 'text must be a string';
  if (text.trim().length === 0) return 'text is empty';
  if (text.length > maxChars) return `text is longer than ${maxChars} characters`;
  // Invalid UTF-8 reaches JS as lone surrogates (JSON escapes such as "\ud800"); raw bytes are
  // refused earlier, by the strict decoder of the HTTP body or of the file. U+FFFD itself is valid
  // (SciFact has it) and stays.
  if (!isWellFormed(text)) return 'text is not valid UTF-8 (it has a lone surrogate, e.g. an escaped "\\ud800")';
  if (text.includes('\u0000')) return 'text contains a NUL character (U+0000)';
  return undefined;
}

function checkMetadata(metadata: unknown, field: string): ProntoError | undefined {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    return invalidInput(field, 'metadata is an object');
  }
  const entries = Object.entries(metadata);
  if (entries.length > MAX_METADATA_KEYS) return invalidInput(field, `at most ${MAX_METADATA_KEYS} metadata keys`);
  for (const [key, value] of entries) {
    const name = `${field}.${key}`;
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || !isWellFormed(key)) {
      return invalidInput(name, `metadata keys are 1-${MAX_KEY_LENGTH} characters`);
    }
    const scalar = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
    const ok =
      value === null ||
      typeof value === 'boolean' ||
      scalar(value) ||
      (Array.isArray(value) && value.length <= 1000 && value.every(scalar));
    if (!ok) return invalidInput(name, 'metadata values are strings, finite numbers, booleans, null or arrays of strings/numbers');
  }
  return undefined;
}

/** Documents ids must be unique within one request: the later one would silently replace the earlier. */
export function duplicateIdError(ids: Map<string, number>, id: string, index: number): ProntoError | undefined {
  const first = ids.get(id);
  if (first !== undefined) return invalidInput(`documents[${index}].id`, `id "${id}" repeats documents[${first}]`);
  ids.set(id, index);
  return undefined;
}
