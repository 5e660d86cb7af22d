import { createStageRunner } from '../stage-runner.js';
import { configFingerprint, normalisedText, type CachedSearch } from '../result-cache.js';
import type { Pipeline } from '../types.js';
import { createContextRetriever, sanitize } from './common.js';
import type { FlowDeps } from './deps.js';

/** search: sanitize -> embed -> retrieve -> rerank (the hits are the response). */
export function createSearchFlow(deps: FlowDeps): Pick<Pipeline, 'search'> {
  const runner = createStageRunner(deps.config, deps.metrics, deps.tracer, 'search');
  const retrieveContexts = createContextRetriever(deps, runner);
  const configKey = configFingerprint(deps.config);
  return {
    async search(input, ctx) {
      const [query] = await sanitize(deps, runner, ctx, [input.query]);
      const request = {
        ...input,
        query: normalisedText(query),
        mode: input.mode ?? deps.config.retrieval.default_mode,
        rerank: input.rerank ?? deps.config.retrieval.rerank.enabled,
        config: configKey,
      };
      const slot = await deps.results.lookup<CachedSearch>(ctx, 'search', input.namespace, request);
      if (slot.cached) {
        ctx.transcript.input = query;
        ctx.transcript.retrieved = slot.cached.hits.map((hit) => ({ id: hit.id, doc_id: hit.docId, score: hit.score }));
        return { hits: slot.cached.hits };
      }
      try {
        const hits = await retrieveContexts(ctx, { ...input, query }, 'throw');
        // A degraded result (a side of retrieval failed) is not what the query deserves: not kept.
        slot.fill(ctx.degraded.length === 0 ? { kind: 'search', hits } : undefined);
        return { hits };
      } finally {
        slot.fill(undefined);
      }
    },
  };
}
