import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { invalidInput } from '../../core/errors.js';
import type { Runtime } from '../../runtime.js';
import { contextOf } from '../request-context-of.js';
import { errorResponses, type Schemas } from '../schemas.js';

/** `POST /v1/embeddings`, shaped as OpenAI's so its clients work unchanged. */
export function registerEmbeddingsRoute(app: FastifyInstance, runtime: Runtime, s: Schemas): void {
  const { config, pipeline } = runtime;
  const Body = Type.Object(
    {
      input: Type.Union([s.Text('Text to embed'), Type.Array(s.Text('Text to embed'), { minItems: 1, maxItems: config.limits.max_embedding_inputs })]),
      model: Type.Optional(Type.String({ minLength: 1, description: 'An embedder from GET /v1/models (default: the pipeline embedder)' })),
      encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64')])),
      dimensions: Type.Optional(Type.Integer({ minimum: 1 })),
      user: Type.Optional(Type.String()),
    },
    { additionalProperties: true },
  );
  const Embedding = Type.Object({
    object: Type.Literal('embedding'),
    index: Type.Integer(),
    embedding: Type.Union([Type.Array(Type.Number()), Type.String()]),
  });
  app.post<{ Body: Static<typeof Body> }>(
    '/v1/embeddings',
    {
      schema: {
        summary: 'Embed texts (OpenAI-compatible)',
        tags: ['openai'],
        body: Body,
        response: {
          200: Type.Object({
            object: Type.Literal('list'),
            data: Type.Array(Embedding),
            model: Type.String(),
            usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() }),
          }),
          ...errorResponses(s),
        },
      },
    },
    async (request) => {
      const body = request.body;
      const texts = typeof body.input === 'string' ? [body.input] : body.input;
      const result = await pipeline.embed({ texts, model: body.model }, contextOf(request));
      const size = result.vectors[0]?.length;
      if (body.dimensions !== undefined && body.dimensions !== size) {
        throw invalidInput('dimensions', `model ${result.model} makes ${size}-dimensional vectors; omit dimensions or send ${size}`);
      }
      return {
        object: 'list' as const,
        data: result.vectors.map((vector, index) => ({
          object: 'embedding' as const,
          index,
          embedding: body.encoding_format === 'base64' ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64') : Array.from(vector),
        })),
        model: result.model,
        usage: { prompt_tokens: result.tokens, total_tokens: result.tokens },
      };
    },
  );
}
