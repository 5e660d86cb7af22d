import type { ToolArguments } from '../../config/flow-tools.js';
import type { ToolEnv, ToolOutcome } from './types.js';

/**
 * `search_namespace`: the request's own retrieval (embed, dense + BM25, fused) over another
 * namespace of the caller's tenant; an unknown or forbidden namespace is refused as in a search.
 */
export async function searchNamespace(args: ToolArguments<'search_namespace'>, env: ToolEnv): Promise<ToolOutcome> {
  const hits = await env.retrieveContexts(
    env.ctx,
    { query: args.query, namespace: args.namespace, topK: env.input.topK, mode: env.deps.config.retrieval.default_mode, rerank: false },
    'throw',
  );
  return {
    contexts: hits,
    result: hits.map((hit) => ({ id: hit.id, doc_id: hit.docId, title: hit.title, text: hit.text.slice(0, 300) })),
  };
}
