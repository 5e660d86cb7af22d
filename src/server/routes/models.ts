import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ProntoError } from '../../core/errors.js';
import type { ModelRuntime } from '../../models/runtime.js';
import { withOpenAIErrorFields } from '../openai/errors.js';
import { openAISchemas } from '../openai/schemas.js';
import { errorResponses, type Schemas } from '../schemas.js';
import { flowModelId, RAG_MODEL } from '../../api/openai.js';
import type { Config } from '../../config/schema.js';

/**
 * `GET /v1/models` and `GET /v1/models/{id}` (OpenAI-compatible), with each model's role and
 * backend: the configured models, `pronto-rag` and a `pronto-flow:NAME` per configured flow.
 */
export function registerModelsRoute(app: FastifyInstance, deps: { models: ModelRuntime; config: Pick<Config, 'flows'> }, s: Schemas): void {
  const created = Math.floor(Date.now() / 1000);
  const o = openAISchemas(s);
  const models = () => [
    ...deps.models.list().map((m) => ({ id: m.name, object: 'model' as const, created, owned_by: 'pronto', role: m.role, backend: m.backend })),
    { id: RAG_MODEL, object: 'model' as const, created, owned_by: 'pronto', role: 'rag', backend: 'pipeline' },
    ...Object.keys(deps.config.flows).map((flow) => ({ id: flowModelId(flow), object: 'model' as const, created, owned_by: 'pronto', role: 'flow', backend: 'pipeline' })),
  ];
  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'List the models (OpenAI-compatible)',
        operationId: 'listModels',
        tags: ['openai'],
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(o.Model) }, { title: 'ListModelsResponse' }), ...errorResponses(s, [401, 429, 503]) },
      },
      onSend: withOpenAIErrorFields,
    },
    async () => ({ object: 'list' as const, data: models() }),
  );

  const Params = Type.Object({ id: Type.String({ minLength: 1, description: 'A model id from GET /v1/models' }) });
  app.get<{ Params: Static<typeof Params> }>(
    '/v1/models/:id',
    {
      schema: {
        summary: 'One model (OpenAI-compatible)',
        operationId: 'retrieveModel',
        tags: ['openai'],
        params: Params,
        response: { 200: o.Model, ...errorResponses(s, [401, 404, 429, 503]) },
      },
      onSend: withOpenAIErrorFields,
    },
    async (request) => {
      const model = models().find((m) => m.id === request.params.id);
      if (!model) throw new ProntoError('unknown_model', `No model "${request.params.id}": GET /v1/models lists them`, { field: 'model' });
      return model;
    },
  );
}
