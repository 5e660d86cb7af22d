import type { RetrievalConfig } from '../../config/retrieval.js';
import { isProntoError } from '../../core/errors.js';
import type { Retrieval } from '../../retrieval/retrieval.js';
import type { Filter, FusionMethod, Hit, SearchMode } from '../../retrieval/types.js';
import type { Fallback, StageRunner } from '../stage-runner.js';
import type { RequestContext } from '../types.js';

export interface RetrieveRequest {
  query: string;
  /** Null when the embed stage failed: dense retrieval is skipped and flagged. */
  vector: Float32Array | null;
  namespace: string;
  mode: SearchMode;
  candidates: number;
  /** Overrides the configured fusion for this request. */
  fusion?: FusionMethod;
  filter?: Filter;
}

/**
 * Dense and sparse retrieval in parallel, then fusion (each with the namespace's stored tuning, if any). When dense retrieval fails the sparse list
 * serves alone (and the other way round), flagged in `degraded`; when both fail the stage fails
 * and the caller's fallback (if any) runs.
 */
export function createRetrieveStage(deps: { config: { retrieval: Pick<RetrievalConfig, 'fusion'> }; retrieval: Retrieval; runner: StageRunner }) {
  const { config, retrieval, runner } = deps;
  return (ctx: RequestContext, request: RetrieveRequest, fallback?: Fallback<Hit[]>): Promise<Hit[]> =>
    runner.run(
      ctx,
      'retrieve',
      async (signal) => {
        const options = { namespace: request.namespace, topK: request.candidates, filter: request.filter, signal };
        const wantDense = request.mode !== 'sparse';
        const wantSparse = request.mode !== 'dense' || request.vector === null;
        const [dense, sparse] = await Promise.allSettled([
          wantDense && request.vector ? retrieval.searchDense(request.vector, options) : Promise.resolve(null),
          wantSparse ? retrieval.sparse.search(request.query, options) : Promise.resolve(null),
        ]);
        if (dense.status === 'rejected') {
          // Not a transient failure to serve around: the namespace must be re-indexed.
          if (sparse.status === 'rejected' || isProntoError(dense.reason, 'embedder_mismatch')) throw dense.reason;
          ctx.logger.warn({ err: dense.reason }, 'dense retrieval failed');
          runner.degrade(ctx, 'retrieve', 'dense_failed', 'sparse');
          return sparse.value ?? retrieval.sparse.search(request.query, options);
        }
        if (sparse.status === 'rejected') {
          if (dense.value === null) throw sparse.reason;
          ctx.logger.warn({ err: sparse.reason }, 'sparse retrieval failed');
          runner.degrade(ctx, 'retrieve', 'sparse_failed', 'dense');
          return dense.value;
        }
        const [denseHits, sparseHits] = [dense.value, sparse.value];
        if (denseHits && sparseHits) {
          return retrieval.fuse(denseHits, sparseHits, { method: request.fusion ?? config.retrieval.fusion, topK: request.candidates, namespace: request.namespace });
        }
        return denseHits ?? sparseHits ?? [];
      },
      fallback,
    );
}

export type RetrieveStage = ReturnType<typeof createRetrieveStage>;
