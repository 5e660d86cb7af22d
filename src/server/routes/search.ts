import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PipelineRouteDeps } from '../route-deps.js';
import { pipelineReport, presentHit, searchInputFrom } from '../../api/answers.js';
import { contextOf } from '../request-context-of.js';
import { SPLIT_BY_VARIANT } from '../plugins/request-context.js';
import { errorResponses, type Schemas } from '../schemas.js';

export function registerSearchRoute(app: FastifyInstance, deps: PipelineRouteDeps, s: Schemas): void {
  const { config, pipeline } = deps;
  const Body = s.SearchRequest;
  app.post<{ Body: Static<typeof Body> }>(
    '/v1/search',
    {
      config: SPLIT_BY_VARIANT,
      schema: {
        summary: 'Hybrid search over a namespace',
        tags: ['retrieval'],
        body: Body,
        response: {
          200: Type.Object({ hits: Type.Array(s.Hit), latency_ms: Type.Number(), timings: s.Timings, degraded: s.Degraded, variant: s.Variant, cache: Type.Optional(s.Cache) }),
          ...errorResponses(s),
        },
      },
    },
    async (request) => {
      const ctx = contextOf(request);
      const result = await pipeline.search(searchInputFrom(request.body, config), ctx);
      return { hits: result.hits.map(presentHit), ...pipelineReport(ctx) };
    },
  );
}
