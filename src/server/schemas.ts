import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Config } from '../config/schema.js';
import { DOC_ID_PATTERN, MAX_TITLE_CHARS } from '../retrieval/validate.js';

/**
 * The request and response shapes shared by the routes. Built from config so that limits
 * (text length, top_k, inputs) are enforced by validation and shown in the OpenAPI at /docs.
 * (A catalogue of shape declarations, long as a list is long; no logic.)
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
    { title: 'Filter', description: 'Metadata filter: equality, {"in": [...]}, or a range {"gte": 1, "lt": 5}' },
  );
  const Message = Type.Object(
    {
      role: Type.Union([Type.Literal('system'), Type.Literal('user'), Type.Literal('assistant')]),
      content: Text('Message text'),
    },
    { additionalProperties: false, title: 'ChatMessage' },
  );
  const Metadata = Type.Record(Type.String(), Type.Unknown());
  const Hit = Type.Object({
    id: Type.String({ description: 'Chunk id (`<document id>#<chunk index>`)' }),
    doc_id: Type.String(),
    score: Type.Number(),
    text: Type.String(),
    title: Type.Optional(Type.String()),
    metadata: Metadata,
  }, { title: 'Hit' });
  const Variant = Type.String({
    title: 'Variant',
    description: 'The pipeline variant that served the request, as in the x-pronto-variant response header (`default` when none are configured)',
  });
  const Timings = Type.Record(Type.String(), Type.Number(), { title: 'StageTimings', description: 'Milliseconds per stage' });
  const Degraded = Type.Array(
    Type.Object({ stage: Type.String(), reason: Type.String(), fallback: Type.String() }),
    { title: 'Degradations', description: 'Stages that ran their fallback; empty when everything ran as configured' },
  );
  const Step = Type.Object(
    {
      name: Type.String({ description: "The step's name in the flow (its kind unless named)" }),
      kind: Type.String({ description: 'rewrite, retrieve, rerank, generate, tool, loop, branch (docs/FLOWS.md)' }),
      status: Type.String({ description: 'ok, degraded, skipped, aborted, or running (generate: the answer starts)' }),
      ms: Type.Number({ description: "The step's time" }),
      start_ms: Type.Number({ description: "When the step started, in ms from the request's start" }),
      part: Type.Optional(Type.Integer({ description: 'The part of the question a per-part step worked on (0-based)' })),
      parts: Type.Optional(Type.Array(Type.String(), { description: "rewrite, generate: the question's parts" })),
      ids: Type.Optional(Type.Array(Type.String(), { description: 'retrieve, rerank: the context ids, best first; tool, loop: the contexts they added' })),
      degraded: Type.Optional(Degraded),
    },
    {
      title: 'FlowStep',
      description:
        'One step of a flow, as it ended (docs/FLOWS.md); `degraded`: the fallbacks it took. Other kinds add their fields: ' +
        'tool `tool`, `arguments` (redacted), `error`; loop `rounds`, `cited`; branch `branch`; plan `calls`, `tokens` (docs/API.md)',
      additionalProperties: true,
    },
  );
  const Usage = Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer() }, { title: 'TokenUsage' });
  const Cache = Type.Object(
    {
      hit: Type.Boolean({ description: 'Whether the result was served from the results cache (also the `X-Pronto-Cache` header)' }),
      tier: Type.Optional(Type.Union([Type.Literal('memory'), Type.Literal('redis'), Type.Literal('in_flight')], {
        description: "Where it was: this replica's memory, Redis (shared by replicas), or an identical request's answer being computed",
      })),
      question: Type.Optional(Type.String({ description: 'A semantic hit: the earlier question whose answer this is' })),
      similarity: Type.Optional(Type.Number({ description: 'A semantic hit: the cosine between the two questions' })),
    },
    { title: 'CacheReport', description: 'Present when the results cache (cache.results) is on' },
  );
  const Error = Type.Object(
    {
      error: Type.Object(
        {
          code: Type.String({ description: 'Stable code from the error catalogue (src/core/errors.ts)' }),
          message: Type.String(),
          field: Type.Optional(Type.String({ description: 'The request field at fault, as a JSON path (`messages[0].content`)' })),
          type: Type.Optional(Type.String({ description: "OpenAI-compatible routes only: OpenAI's error type" })),
          param: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'OpenAI-compatible routes only: the field, or null' })),
          limit: Type.Optional(Type.String({ description: "Which limit refused the request: a rate (429) or the API key's request-shaping cap (400/413: `max_body_bytes`, `max_text_chars`, `max_top_k`, `max_tokens`)" })),
          max: Type.Optional(Type.Integer({ description: "The API key's value of the cap named by `limit` (400/413)" })),
        },
        { additionalProperties: true },
      ),
    },
    { title: 'Error' },
  );
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
      flow: Type.Optional(
        Type.String({ minLength: 1, maxLength: 64, description: 'Answer with this multi-step flow from config (`flows`; docs/FLOWS.md), streaming a `step` event per step' }),
      ),
      ...AnswerOptions,
    },
    { additionalProperties: false, title: 'ChatRequest' },
  );

  const InferRequest = Type.Object({ text: Text('The question'), ...AnswerOptions }, { additionalProperties: false, title: 'InferRequest' });

  const SearchRequest = Type.Object(
    {
      query: Text('What to search for'),
      top_k: Type.Optional(TopK),
      namespace: Type.Optional(Namespace),
      filter: Type.Optional(Filter),
      mode: Type.Optional(Type.Union([Type.Literal('dense'), Type.Literal('sparse'), Type.Literal('hybrid')])),
      fusion: Type.Optional(Type.Union([Type.Literal('rrf'), Type.Literal('weighted')])),
      rerank: Type.Optional(Type.Boolean({ description: 'Rerank the fused candidates (default: when a reranker is configured)' })),
    },
    { additionalProperties: false },
  );

  /** Texts for the pipeline embedder (the `embed` job kind and gRPC `Embed`). */
  const EmbedRequest = Type.Object(
    {
      texts: Type.Array(Text('Text to embed'), { minItems: 1, maxItems: config.limits.max_embedding_inputs }),
      model: Type.Optional(Type.String({ minLength: 1, description: 'An embedder from GET /v1/models' })),
    },
    { additionalProperties: false },
  );

  const Document = Type.Object(
    {
      id: Type.String({ pattern: DOC_ID_PATTERN.source, description: 'Your id; re-sending it replaces the document' }),
      text: Type.String({ minLength: 1, maxLength: config.retrieval.max_document_chars }),
      title: Type.Optional(Type.String({ maxLength: MAX_TITLE_CHARS })),
      metadata: Type.Optional(Metadata),
    },
    { additionalProperties: false, title: 'Document' },
  );
  /** A batch of documents for one namespace (`POST /v1/documents`, ingest jobs). */
  const DocumentBatch = Type.Object(
    {
      namespace: Type.Optional(Namespace),
      documents: Type.Array(Document, { minItems: 1, maxItems: config.retrieval.max_documents_per_request }),
    },
    { additionalProperties: false, title: 'DocumentBatch' },
  );

  return { Text, Namespace, TopK, Filter, Message, Metadata, Hit, Variant, Timings, Degraded, Step, Usage, Cache, Error, UserId, AnswerOptions, ChatRequest, InferRequest, SearchRequest, EmbedRequest, Document, DocumentBatch };
}

export type Schemas = ReturnType<typeof createSchemas>;

/** The errors a /v1 route with a JSON body may answer (415: not JSON; 502: a model or store call failed). */
export const BODY_ERRORS = [400, 401, 404, 413, 415, 429, 502, 503, 504];
/** The errors a /v1 route without a body may answer (400: a bad path parameter or deadline header). */
export const READ_ERRORS = [400, 401, 404, 429, 502, 503, 504];

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input: `field` names the field (`top_k` or `max_tokens` over the API key's own cap: `limit` names it, `max` is the key's value)",
  401: 'Missing or invalid API key',
  404: 'Unknown model, namespace, job or document',
  413: "Body, text or list too large (over the API key's own `max_body_bytes` or `max_text_chars`: `limit` names it, `max` is the key's value)",
  415: 'The body is not application/json',
  429: 'Rate limited or queue full: retry after Retry-After seconds',
  502: 'A model or store call failed',
  503: 'Not ready, overloaded or shutting down: retry after Retry-After seconds',
  504: 'The deadline passed before a useful answer was ready',
};

/** The error responses of a route, for validation of what is sent and for the OpenAPI document. */
export function errorResponses(schemas: Schemas, statuses: number[] = BODY_ERRORS) {
  return Object.fromEntries(
    // `x-response-description` describes the response without changing the (shared, named) schema.
    statuses.map((status) => [status, { ...schemas.Error, 'x-response-description': ERROR_DESCRIPTIONS[status] ?? 'Error' }]),
  ) as Record<number, TSchema>;
}

export type StaticOf<T extends TSchema> = Static<T>;
