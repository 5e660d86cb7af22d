import type { ToolArguments } from '../../config/flow-tools.js';
import { ProntoError } from '../../core/errors.js';
import { refusePersonalData } from '../../core/redact.js';
import { namespaceOf } from '../context.js';
import type { ToolEnv, ToolOutcome } from './types.js';

/** Chunks of a fetched document kept as contexts: a long document would crowd out every other context. */
const MAX_CHUNKS = 16;

/**
 * `fetch_document`: one document's chunks, in order, read by id from the namespace of the caller's
 * tenant (scoped like every namespace, so no tenant reads another's). A document that is not
 * there is an empty result, not a failure: a planner may guess ids.
 */
export async function fetchDocument(args: ToolArguments<'fetch_document'>, env: ToolEnv): Promise<ToolOutcome> {
  const { ctx, deps } = env;
  refusePersonalData(deps.redactor, args.namespace, 'namespace');
  const namespace = namespaceOf(ctx, args.namespace);
  if (args.namespace !== deps.config.sample_corpus.namespace && !(await deps.retrieval.namespaceExists(namespace))) {
    throw new ProntoError('unknown_namespace', `namespace "${args.namespace}" does not exist`, { field: 'namespace' });
  }
  const chunks = (await deps.retrieval.getDocument(namespace, args.doc_id, ctx.deadline.signal)).slice(0, MAX_CHUNKS);
  return {
    contexts: chunks.map((chunk) => ({ ...chunk, score: 1 })),
    result: chunks.length === 0 ? { found: false } : { found: true, title: chunks[0].title, text: chunks.map((c) => c.text).join('\n') },
  };
}
