import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ModelConfig } from '../config/models.js';

/**
 * Validates a backend's `options` against its schema (filling defaults), so a typo in a model's
 * options fails at start naming the key instead of misbehaving under load.
 */
export function parseOptions<S extends TSchema>(schema: S, model: ModelConfig): Static<S> {
  const value = Value.Default(schema, Value.Clone(model.options ?? {}));
  const error = Value.Errors(schema, value).First();
  if (error) {
    const key = error.path.slice(1).replaceAll('/', '.') || '(options)';
    throw new Error(`config: model "${model.name}" (${model.backend}): options.${key}: ${error.message}`);
  }
  return value as Static<S>;
}
