import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PipelineRouteDeps } from '../route-deps.js';
import { pipelineReport, presentHit } from '../../api/answers.js';
import { contextOf } from '../request-context-of.js';
import { errorResponses, type Schemas } from '../schemas.js';

export function registerSearchRoute(app: FastifyInstance, deps: PipelineRouteDeps, s: Schemas): void {
  const { config, pipeline } = deps;
  const Body = Type.Object(
    {
      query: s.Text('What to search for'),
      top_k: Type.Optional(s.TopK),
      namespace: Type.Optional(s.Namespace),
      filter: Type.Optional(s.Filter),
      mode: Type.Optional(Type.Union([Type.Literal('dense'), Type.Literal('sparse'), Type.Literal('hybrid')])),
      fusion: Type.Optional(Type.Union([Type.Literal('rrf'), Type.Literal('weighted')])),
      rerank: Type.Optional(Type.Boolean({ description: 'Rerank the fused candidates (default: when a reranker is configured)' })),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof Body> }>(
    '/v1/search',
    {
      schema: {
        summary: 'Hybrid search over a namespace',
        tags: ['retrieval'],
        body: Body,
        response: {
          200: Type.Object({ hits: Type.Array(s.Hit), latency_ms: Type.Number(), timings: s.Timings, degraded: s.Degraded }),
          ...errorResponses(s),
        },
      },
    },
    async (request) => {
      const ctx = contextOf(request);
      const body = request.body;
      const result = await pipeline.search(
        {
          query: body.query,
          namespace: body.namespace ?? config.sample_corpus.namespace,
          topK: body.top_k ?? config.retrieval.default_top_k,
          mode: body.mode ?? config.retrieval.default_mode,
          fusion: body.fusion,
          filter: body.filter,
          rerank: body.rerank ?? config.retrieval.rerank.enabled,
        },
        ctx,
      );
      return { hits: result.hits.map(presentHit), ...pipelineReport(ctx) };
    },
  );
}
