import { ProntoError } from '../../core/errors.js';
import { refusePersonalData } from '../../core/redact.js';
import type { ChatMessage } from '../../models/types.js';
import type { Hit } from '../../retrieval/types.js';
import { namespaceOf } from '../context.js';
import type { StageRunner } from '../stage-runner.js';
import { createEmbedStage } from '../stages/embed.js';
import { createRerankStage } from '../stages/rerank.js';
import { createRetrieveStage } from '../stages/retrieve.js';
import type { RequestContext, SearchInput } from '../types.js';
import type { FlowDeps } from './deps.js';

/** The steps more than one flow takes: sanitize, and retrieve contexts (embed, retrieve, rerank). */

/** The sanitize stage: every text redacted before anything else sees it. */
export function sanitize(deps: Pick<FlowDeps, 'redactor'>, runner: StageRunner, ctx: RequestContext, texts: string[]): Promise<string[]> {
  return runner.run(ctx, 'sanitize', async (signal) => {
    const clean: string[] = [];
    for (const text of texts) clean.push(await deps.redactor.redactInSlices(text, signal));
    return clean;
  });
}

export async function sanitizeMessages(deps: Pick<FlowDeps, 'redactor'>, runner: StageRunner, ctx: RequestContext, messages: ChatMessage[]): Promise<ChatMessage[]> {
  const sanitized = await sanitize(deps, runner, ctx, messages.map((m) => m.content));
  return messages.map((m, i) => ({ role: m.role, content: sanitized[i] }));
}

/**
 * Contexts for a query: the query embedded (unless sparse), dense + sparse retrieval fused, the
 * head reranked when asked and configured. `no_context` turns a retrieval failure into no
 * contexts (answers still come); `throw` fails the request (search).
 */
export function createContextRetriever(deps: FlowDeps, runner: StageRunner) {
  const { config, models, retrieval } = deps;
  const embed = createEmbedStage({ cache: deps.embeddingCache, runner });
  const retrieve = createRetrieveStage({ config, retrieval, runner });
  const rerank = createRerankStage({ runner });

  /** An explicitly named namespace must exist; the default one may be empty. */
  async function resolveNamespace(ctx: RequestContext, namespace: string): Promise<string> {
    refusePersonalData(deps.redactor, namespace, 'namespace');
    const scoped = namespaceOf(ctx, namespace);
    if (namespace !== config.sample_corpus.namespace && !(await retrieval.namespaceExists(scoped))) {
      throw new ProntoError('unknown_namespace', `namespace "${namespace}" does not exist`, { field: 'namespace' });
    }
    return scoped;
  }

  /** `queryVector`: the query embedded already (the semantic answer cache needs it first). */
  return async (ctx: RequestContext, request: SearchInput, onFailure: 'throw' | 'no_context', queryVector?: Float32Array | null): Promise<Hit[]> => {
    const namespace = await resolveNamespace(ctx, request.namespace);
    const rerankerName = config.pipeline.reranker;
    const mode = request.mode ?? config.retrieval.default_mode;
    const reranker = (request.rerank ?? config.retrieval.rerank.enabled) && rerankerName ? models.reranker(rerankerName) : undefined;
    const vector = mode === 'sparse' ? null : (queryVector ?? (await embed.embedQuery(models.embedder(config.pipeline.embedder), request.query, ctx)));
    const candidates = Math.max(request.topK, reranker ? config.retrieval.rerank.top_n : 0, config.retrieval.candidates);
    const hits = await retrieve(
      ctx,
      { query: request.query, vector, namespace, mode, candidates, filter: request.filter, fusion: request.fusion },
      onFailure === 'no_context' ? { name: 'no_context', run: () => [] } : undefined,
    );
    const reranked = reranker ? await rerank(ctx, reranker, request.query, hits, config.retrieval.rerank.top_n) : hits;
    const ranked = reranked.slice(0, request.topK);
    ctx.transcript.input = request.query;
    ctx.transcript.retrieved = ranked.map((hit) => ({ id: hit.id, doc_id: hit.docId, score: hit.score }));
    return ranked;
  };
}
