import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PipelineRouteDeps } from '../route-deps.js';
import type { Config } from '../../config/schema.js';
import type { AnswerStream, RequestContext } from '../../pipeline/types.js';
import { startAnswer, type StartedAnswer } from '../answer-stream.js';
import { toProntoError } from '../plugins/errors.js';
import { collectAnswer, conversationOf, pipelineReport } from '../../api/answers.js';
import { RAG_MODEL } from '../../api/openai.js';
import { contextOf } from '../request-context-of.js';
import { SPLIT_BY_VARIANT } from '../plugins/request-context.js';
import { errorResponses, type Schemas } from '../schemas.js';
import { openAISchemas } from '../openai/schemas.js';
import { openAIErrorBody, withOpenAIErrorFields } from '../openai/errors.js';
import { conversationFromOpenAI, openAIMessageSchema, type OpenAIMessage } from '../openai/messages.js';
import { refuseUnsupported, type OpenAIChatOptions } from '../openai/unsupported.js';

/**
 * `POST /v1/chat/completions`, shaped as OpenAI's (the `openai` npm client works unchanged).
 * `model` is a generator from GET /v1/models (plain generation) or `pronto-rag` (answers from the
 * default namespace's documents). `model` in the reply is the one asked for; the generator that
 * answered (a fallback, when degraded) is `pronto.generator`. Non-standard extras ride in a
 * `pronto` field. What pronto cannot honour (tools, n > 1, structured output) is refused with
 * 400 `unsupported_parameter`, never ignored.
 */
export function registerChatCompletionsRoute(app: FastifyInstance, deps: PipelineRouteDeps, s: Schemas): void {
  const { config } = deps;
  const o = openAISchemas(s);
  const Body = chatCompletionRequestSchema(s, config);

  app.post<{ Body: Static<typeof Body> }>(
    '/v1/chat/completions',
    {
      config: { ...SPLIT_BY_VARIANT, stream: (body) => (body as { stream?: boolean }).stream === true },
      schema: {
        summary: 'Chat completions (OpenAI-compatible; stream or not)',
        operationId: 'createChatCompletion',
        tags: ['openai'],
        body: Body,
        response: {
          200: {
            description: 'The completion; with `stream: true`, server-sent events of chunks',
            content: {
              'application/json': { schema: o.ChatCompletion },
              // Each event's data (the SSE framing itself is text): see the schema's description.
              'text/event-stream': { schema: o.ChatCompletionChunk },
            },
          },
          ...errorResponses(s),
        },
      },
      onSend: withOpenAIErrorFields,
    },
    async (request, reply) => {
      const body = request.body;
      refuseUnsupported(body as OpenAIChatOptions);
      const ctx = contextOf(request);
      const maxTokens = body.max_completion_tokens ?? body.max_tokens;
      const answer = answerFor(deps, body, maxTokens, ctx);
      const id = `chatcmpl-${randomUUID()}`;
      const created = Math.floor(Date.now() / 1000);
      const limit = maxTokens ?? config.pipeline.max_answer_tokens;
      if (!body.stream) {
        const result = await collectAnswer(answer, ctx);
        return reply.send(completionBody(result, { id, created, model: body.model, limit }));
      }
      const started = await startAnswer(answer);
      const chunks = completionChunks(
        started,
        { id, created, model: body.model, limit, includeUsage: body.stream_options?.include_usage === true },
        ctx,
      );
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(Readable.from(chunks));
    },
  );
}

/** The request body: OpenAI's fields, the ones pronto refuses included so it can say so. */
function chatCompletionRequestSchema(s: Schemas, config: Config) {
  return Type.Object(
    {
      model: Type.String({ minLength: 1 }),
      messages: Type.Array(openAIMessageSchema(s, config.limits.max_text_chars), { minItems: 1, maxItems: config.limits.max_messages }),
      stream: Type.Optional(Type.Boolean()),
      stream_options: Type.Optional(Type.Object({ include_usage: Type.Optional(Type.Boolean()) })),
      max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: config.limits.max_tokens })),
      max_completion_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: config.limits.max_tokens })),
      temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
      stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 })])),
      user: Type.Optional(Type.String()),
      n: Type.Optional(Type.Integer({ minimum: 1, description: 'Only 1' })),
      response_format: Type.Optional(Type.Object({ type: Type.String({ description: 'Only "text"' }) }, { additionalProperties: true })),
      tools: Type.Optional(Type.Array(Type.Unknown(), { description: 'Refused when not empty: pronto does not call tools' })),
      tool_choice: Type.Optional(Type.Unknown({ description: 'Only "none"' })),
    },
    { additionalProperties: true },
  );
}

type ChatCompletionRequest = Static<ReturnType<typeof chatCompletionRequestSchema>>;

/** `pronto-rag` answers from the default namespace's documents; any other model generates plainly. */
function answerFor(
  { config, pipeline }: PipelineRouteDeps,
  body: ChatCompletionRequest,
  maxTokens: number | undefined,
  ctx: RequestContext,
): AnswerStream {
  const messages = conversationOf({ messages: conversationFromOpenAI(body.messages as OpenAIMessage[]) });
  if (body.model === RAG_MODEL) {
    return pipeline.answer({ messages, namespace: config.sample_corpus.namespace, topK: config.retrieval.default_top_k, maxTokens }, ctx);
  }
  const stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  return pipeline.complete({ model: body.model, messages, maxTokens, temperature: body.temperature, stop }, ctx);
}

/** The whole completion in OpenAI's shape, pronto's report in `pronto`. */
function completionBody(
  result: Awaited<ReturnType<typeof collectAnswer>>,
  meta: { id: string; created: number; model: string; limit: number },
) {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: result.answer },
        finish_reason: finishReason(result.usage.completion_tokens, meta.limit),
        logprobs: null,
      },
    ],
    usage: totalUsage(result.usage),
    pronto: {
      generator: result.model,
      citations: result.citations,
      latency_ms: result.latency_ms,
      timings: result.timings,
      degraded: result.degraded,
      variant: result.variant,
    },
  };
}

async function* completionChunks(
  answer: StartedAnswer,
  meta: { id: string; created: number; model: string; limit: number; includeUsage: boolean },
  ctx: Parameters<typeof pipelineReport>[0],
): AsyncGenerator<string> {
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`;
  yield chunk({ role: 'assistant', content: '' }, null);
  try {
    for await (const text of answer.tokens) yield chunk({ content: text }, null);
    const done = await answer.done;
    const report = pipelineReport(ctx);
    yield chunk({}, finishReason(done.usage.completion_tokens, meta.limit), {
      pronto: { generator: done.model, citations: done.citations, ...report },
    });
    if (meta.includeUsage) {
      yield `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [], usage: totalUsage(done.usage) })}\n\n`;
    }
  } catch (err) {
    const error = toProntoError(err);
    yield `data: ${JSON.stringify(openAIErrorBody(error.status, error.toBody()))}\n\n`;
  }
  yield 'data: [DONE]\n\n';
}

function finishReason(completionTokens: number, limit: number): 'stop' | 'length' {
  return completionTokens >= limit ? 'length' : 'stop';
}

function totalUsage(usage: { prompt_tokens: number; completion_tokens: number }) {
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}
