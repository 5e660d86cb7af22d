import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Config } from '../config/schema.js';

/**
 * The request and response shapes shared by the routes. Built from config so that limits
 * (text length, top_k, inputs) are enforced by validation and shown in the OpenAPI at /docs.
 */
export function createSchemas(config: Config) {
  const Text = (description: string) =>
    Type.String({ minLength: 1, maxLength: config.limits.max_text_chars, pattern: '\\S', description });
  const Namespace = Type.String({
    pattern: '^[A-Za-z0-9_-]{1,64}$',
    description: 'Document collection, scoped to your tenant',
    default: config.sample_corpus.namespace,
  });
  const TopK = Type.Integer({ minimum: 1, maximum: config.retrieval.max_top_k, description: 'How many passages to return' });
  const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
  const Filter = Type.Record(
    Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }),
    Type.Union([
      Scalar,
      Type.Object({ in: Type.Array(Type.Union([Type.String(), Type.Number()]), { minItems: 1, maxItems: 256 }) }, { additionalProperties: false }),
      Type.Object(
        { gt: Type.Optional(Type.Number()), gte: Type.Optional(Type.Number()), lt: Type.Optional(Type.Number()), lte: Type.Optional(Type.Number()) },
        { additionalProperties: false, minProperties: 1 },
      ),
    ]),
    { description: 'Metadata filter: equality, {"in": [...]}, or a range {"gte": 1, "lt": 5}' },
  );
  const Message = Type.Object(
    {
      role: Type.Union([Type.Literal('system'), Type.Literal('user'), Type.Literal('assistant')]),
      content: Text('Message text'),
    },
    { additionalProperties: false },
  );
  const Metadata = Type.Record(Type.String(), Type.Unknown());
  const Hit = Type.Object({
    id: Type.String({ description: 'Chunk id (`<document id>#<chunk index>`)' }),
    doc_id: Type.String(),
    score: Type.Number(),
    text: Type.String(),
    title: Type.Optional(Type.String()),
    metadata: Metadata,
  });
  const Timings = Type.Record(Type.String(), Type.Number(), { description: 'Milliseconds per stage' });
  const Degraded = Type.Array(
    Type.Object({ stage: Type.String(), reason: Type.String(), fallback: Type.String() }),
    { description: 'Stages that ran their fallback; empty when everything ran as configured' },
  );
  const Usage = Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer() });
  const Error = Type.Object({
    error: Type.Object(
      { code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) },
      { additionalProperties: true },
    ),
  });
  const UserId = Type.String({ minLength: 1, maxLength: 256, description: 'Your user id, for features (tier, ...)' });

  const AnswerOptions = {
    user_id: Type.Optional(UserId),
    namespace: Type.Optional(Namespace),
    top_k: Type.Optional(TopK),
    filter: Type.Optional(Filter),
    max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: config.limits.max_tokens })),
  };
  /** The chat request, shared by SSE (`/v1/chat`) and WebSocket (`/v1/chat/ws`). */
  const ChatRequest = Type.Object(
    {
      messages: Type.Optional(Type.Array(Message, { minItems: 1, maxItems: config.limits.max_messages })),
      text: Type.Optional(Text('A one-turn question (instead of messages)')),
      stream: Type.Optional(Type.Boolean({ default: true, description: 'false: answer as one JSON body' })),
      ...AnswerOptions,
    },
    { additionalProperties: false },
  );

  const InferRequest = Type.Object({ text: Text('The question'), ...AnswerOptions }, { additionalProperties: false });

  const Document = Type.Object(
    {
      id: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,256}$', description: 'Your id; re-sending it replaces the document' }),
      text: Type.String({ minLength: 1, maxLength: config.retrieval.max_document_chars }),
      title: Type.Optional(Type.String({ maxLength: 1024 })),
      metadata: Type.Optional(Metadata),
    },
    { additionalProperties: false },
  );
  /** A batch of documents for one namespace (`POST /v1/documents`, ingest jobs). */
  const DocumentBatch = Type.Object(
    {
      namespace: Type.Optional(Namespace),
      documents: Type.Array(Document, { minItems: 1, maxItems: config.retrieval.max_documents_per_request }),
    },
    { additionalProperties: false },
  );

  return { Text, Namespace, TopK, Filter, Message, Metadata, Hit, Timings, Degraded, Usage, Error, UserId, AnswerOptions, ChatRequest, InferRequest, Document, DocumentBatch };
}

export type Schemas = ReturnType<typeof createSchemas>;

/** The error responses every /v1 route may give, for the OpenAPI document. */
export function errorResponses(schemas: Schemas, statuses: number[] = [400, 401, 404, 413, 429, 503, 504]) {
  return Object.fromEntries(statuses.map((status) => [status, schemas.Error])) as Record<number, TSchema>;
}

export type StaticOf<T extends TSchema> = Static<T>;
