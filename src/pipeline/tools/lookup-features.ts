import type { ToolArguments } from '../../config/flow-tools.js';
import { ProntoError } from '../../core/errors.js';
import type { ToolEnv, ToolOutcome } from './types.js';

/**
 * `lookup_features`: the request's user's features from the feature source (through its cache,
 * `cache.features`), as one context. Only the user the request names: a flow (or a model
 * planner) may not read another user's profile.
 */
export async function lookupFeatures(args: ToolArguments<'lookup_features'>, env: ToolEnv): Promise<ToolOutcome> {
  if (args.user_id !== env.input.userId) {
    throw new ProntoError('forbidden', 'lookup_features reads the features of the request\'s own user (user_id) only', { field: 'arguments.user_id' });
  }
  const features = await env.deps.features.get(args.user_id, env.ctx.deadline.signal);
  const text = Object.entries(features)
    .map(([field, value]) => `${field}: ${value}`)
    .join('; ');
  return {
    contexts: text ? [{ id: `features:${args.user_id}`, docId: `features:${args.user_id}`, score: 1, text, title: 'User features', metadata: {} }] : [],
    result: features,
  };
}
