import { createStageRunner } from '../stage-runner.js';
import { configFingerprint, normalisedText, sortedKeys, type CachedSearch } from '../result-cache.js';
import type { Pipeline } from '../types.js';
import { createContextRetriever, sanitize } from './common.js';
import type { FlowDeps } from './deps.js';

/**
 * search: results cache -> sanitize -> embed -> retrieve -> rerank (the hits are the response).
 * As for answers, the exact lookup comes first on the query as sent, so a hit runs no stage.
 */
export function createSearchFlow(deps: FlowDeps): Pick<Pipeline, 'search'> {
  const runner = createStageRunner(deps.config, deps.metrics, deps.tracer, 'search');
  const retrieveContexts = createContextRetriever(deps, runner);
  const configKey = configFingerprint(deps.config);
  return {
    async search(input, ctx) {
      const request = {
        query: normalisedText(input.query),
        topK: input.topK,
        filter: input.filter && sortedKeys(input.filter),
        mode: input.mode ?? deps.config.retrieval.default_mode,
        fusion: input.fusion,
        rerank: input.rerank ?? deps.config.retrieval.rerank.enabled,
        config: configKey,
      };
      const slot = await deps.results.lookup<CachedSearch>(ctx, 'search', input.namespace, request);
      if (slot.cached) {
        ctx.transcript.input = slot.cached.query;
        ctx.transcript.retrieved = slot.cached.hits.map((hit) => ({ id: hit.id, doc_id: hit.docId, score: hit.score }));
        return { hits: slot.cached.hits };
      }
      try {
        const [query] = await sanitize(deps, runner, ctx, [input.query]);
        const hits = await retrieveContexts(ctx, { ...input, query }, 'throw');
        // A degraded result (a side of retrieval failed) is not what the query deserves: not kept.
        slot.fill(ctx.degraded.length === 0 ? { kind: 'search', query, hits } : undefined);
        return { hits };
      } finally {
        slot.fill(undefined);
      }
    },
  };
}
