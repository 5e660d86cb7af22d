import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ModelConfig } from '../config/models.js';
import { ConfigError } from '../core/errors.js';

/**
 * Validates a backend's `options` against its schema (filling defaults), so a typo in a model's
 * options fails at start naming the key instead of misbehaving under load.
 */
export function parseOptions<S extends TSchema>(schema: S, model: ModelConfig): Static<S> {
  const value = Value.Default(schema, Value.Clone(model.options ?? {}));
  const error = Value.Errors(schema, value).First();
  if (error) {
    const key = error.path.slice(1).replaceAll('/', '.');
    throw new ConfigError(`${modelKey(model)}.options${key ? `.${key}` : ''}`, `${model.backend}: ${error.message}`);
  }
  return value as Static<S>;
}

/** How a model's config errors name it: `models[<name>]`, its name being unique and known at start. */
export function modelKey(model: Pick<ModelConfig, 'name'>): string {
  return `models[${model.name}]`;
}
