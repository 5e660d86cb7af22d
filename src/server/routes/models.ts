import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../runtime.js';
import { RAG_MODEL } from './chat-completions.js';

/** `GET /v1/models` (OpenAI-compatible list), with each model's role and backend. */
export function registerModelsRoute(app: FastifyInstance, runtime: Runtime): void {
  const created = Math.floor(Date.now() / 1000);
  const Model = Type.Object({
    id: Type.String(),
    object: Type.Literal('model'),
    created: Type.Integer(),
    owned_by: Type.String(),
    role: Type.String(),
    backend: Type.String(),
  });
  app.get(
    '/v1/models',
    { schema: { summary: 'List the models (OpenAI-compatible)', tags: ['openai'], response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(Model) }) } } },
    async () => ({
      object: 'list' as const,
      data: [
        ...runtime.models.list().map((m) => ({ id: m.name, object: 'model' as const, created, owned_by: 'pronto', role: m.role, backend: m.backend })),
        { id: RAG_MODEL, object: 'model' as const, created, owned_by: 'pronto', role: 'rag', backend: 'pipeline' },
      ],
    }),
  );
}
