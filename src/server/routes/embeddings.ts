import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PipelineRouteDeps } from '../route-deps.js';
import { ProntoError, invalidInput } from '../../core/errors.js';
import { withOpenAIErrorFields } from '../openai/errors.js';
import { openAISchemas } from '../openai/schemas.js';
import { contextOf } from '../request-context-of.js';
import { errorResponses, type Schemas } from '../schemas.js';

/** What to tell a client that sends token ids (LangChain's default: it splits long texts by tokens first). */
const TOKEN_IDS_REFUSED =
  'pronto embeds text, not token ids: send strings. LangChain sends token ids unless told not to: ' +
  'OpenAIEmbeddings({ checkEmbeddingCtxLength: false }) in JavaScript, OpenAIEmbeddings(check_embedding_ctx_length=False) in Python';

/** `POST /v1/embeddings`, shaped as OpenAI's so its clients work unchanged. */
export function registerEmbeddingsRoute(app: FastifyInstance, deps: PipelineRouteDeps, s: Schemas): void {
  const { config, pipeline } = deps;
  const o = openAISchemas(s);
  const maxInputs = config.limits.max_embedding_inputs;
  const TokenIds = Type.Array(Type.Integer(), { minItems: 1, description: 'Token ids: refused (see the error message)' });
  const Body = Type.Object(
    {
      input: Type.Union([
        s.Text('Text to embed'),
        Type.Array(s.Text('Text to embed'), { minItems: 1, maxItems: maxInputs }),
        TokenIds,
        Type.Array(TokenIds, { maxItems: maxInputs }),
      ]),
      model: Type.Optional(Type.String({ minLength: 1, description: 'An embedder from GET /v1/models (default: the pipeline embedder)' })),
      encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64')])),
      dimensions: Type.Optional(Type.Integer({ minimum: 1 })),
      user: Type.Optional(Type.String()),
    },
    { additionalProperties: true },
  );
  app.post<{ Body: Static<typeof Body> }>(
    '/v1/embeddings',
    {
      schema: {
        summary: 'Embed texts (OpenAI-compatible)',
        operationId: 'createEmbedding',
        tags: ['openai'],
        body: Body,
        response: { 200: o.EmbeddingList, ...errorResponses(s) },
      },
      onSend: withOpenAIErrorFields,
    },
    async (request) => {
      const body = request.body;
      const texts = textsOf(body.input);
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

/** The texts of `input`; token ids (a number array, or arrays of them) are refused with how to stop sending them. */
function textsOf(input: string | string[] | number[] | number[][]): string[] {
  if (typeof input === 'string') return [input];
  if (input.length === 0 || typeof input[0] !== 'string') throw new ProntoError('unsupported_parameter', TOKEN_IDS_REFUSED, { field: 'input' });
  return input as string[];
}
