import { AjvCompiler } from '@fastify/ajv-compiler';
import type { TSchema } from '@sinclair/typebox';
import { ProntoError, invalidInput } from '../../core/errors.js';

/** How request bodies are validated: no coercion, defaults filled, first error only. Fastify uses it too. */
export const AJV_OPTIONS = { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } as const;

export interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * A validator for a body schema, built by the same compiler and options Fastify uses for the HTTP
 * routes, so a gRPC request and its JSON twin pass or fail alike (and name the same field).
 * Returns the body (with defaults filled in) or throws the 400 the HTTP route would answer.
 */
export function createBodyValidator(): <T>(schema: TSchema) => (body: unknown) => T {
  const build = AjvCompiler()({}, { customOptions: { ...AJV_OPTIONS } });
  return <T>(schema: TSchema) => {
    const validate = build({ schema, method: 'POST', url: '', httpPart: 'body' }) as ((data: unknown) => boolean) & { errors?: ValidationIssue[] | null };
    return (body: unknown): T => {
      if (!validate(body)) throw fromValidation(validate.errors?.[0] ?? { instancePath: '', keyword: 'type', params: {} }, 'body');
      return body as T;
    };
  };
}

/** A JSON pointer (`/messages/0/content`) as the field path clients see (`messages[0].content`). */
export function fieldFromPointer(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

/** Turns an ajv issue into a 400 naming the field as a JSON path (`messages[0].content`). */
export function fromValidation(issue: ValidationIssue, context: string): ProntoError {
  const base = fieldFromPointer(issue.instancePath);
  const join = (name: string) => (base ? `${base}.${name}` : name);
  if (issue.keyword === 'required') {
    const name = String(issue.params.missingProperty);
    return invalidInput(join(name), `${join(name)} is required`);
  }
  if (issue.keyword === 'additionalProperties') {
    // An empty key (`{"": 1}`) would name nothing: it is shown as the JSON string it is.
    const name = String(issue.params.additionalProperty) || '""';
    return new ProntoError('unknown_field', `${join(name)} is not a known field`, { field: join(name) });
  }
  const field = base || context;
  if (issue.keyword === 'maxLength' || issue.keyword === 'maxItems') {
    return new ProntoError('payload_too_large', `${field} ${issue.message ?? 'is too large'}`, { field });
  }
  return invalidInput(field, `${field} ${issue.message ?? 'is invalid'}`);
}
