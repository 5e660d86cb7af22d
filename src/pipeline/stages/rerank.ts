import type { Reranker } from '../../models/types.js';
import type { Hit } from '../../retrieval/types.js';
import type { StageRunner } from '../stage-runner.js';
import type { RequestContext } from '../types.js';

/**
 * Re-scores the top `topN` fused candidates with the reranker; the rest keep their fused order
 * behind them. On a failure or overrun the fused order serves unchanged (flagged).
 */
export function createRerankStage(deps: { runner: StageRunner }) {
  return (ctx: RequestContext, reranker: Reranker, query: string, hits: Hit[], topN: number): Promise<Hit[]> => {
    if (hits.length === 0) return Promise.resolve(hits);
    const head = hits.slice(0, topN);
    const tail = hits.slice(topN);
    return deps.runner.run(
      ctx,
      'rerank',
      async (signal) => {
        const scores = await reranker.rerank(
          query,
          head.map((hit) => (hit.title ? `${hit.title}\n${hit.text}` : hit.text)),
          {
            signal,
            deadlineAt: ctx.deadline.at,
            trace: ctx.trace,
            onFallback: (event) => deps.runner.degrade(ctx, 'rerank', event.reason, event.to),
          },
        );
        const rescored = head.map((hit, i) => ({ ...hit, score: scores[i] })).sort((a, b) => b.score - a.score);
        return [...rescored, ...tail];
      },
      { name: 'fused_order', run: () => hits },
    );
  };
}

export type RerankStage = ReturnType<typeof createRerankStage>;
