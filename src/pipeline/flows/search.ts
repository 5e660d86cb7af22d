import { createStageRunner } from '../stage-runner.js';
import type { Pipeline } from '../types.js';
import { createContextRetriever, sanitize } from './common.js';
import type { FlowDeps } from './deps.js';

/** search: sanitize -> embed -> retrieve -> rerank (the hits are the response). */
export function createSearchFlow(deps: FlowDeps): Pick<Pipeline, 'search'> {
  const runner = createStageRunner(deps.config, deps.metrics, deps.tracer, 'search');
  const retrieveContexts = createContextRetriever(deps, runner);
  return {
    async search(input, ctx) {
      const [query] = await sanitize(deps, runner, ctx, [input.query]);
      return { hits: await retrieveContexts(ctx, { ...input, query }, 'throw') };
    },
  };
}
