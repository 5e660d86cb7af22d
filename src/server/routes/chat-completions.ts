import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PipelineRouteDeps } from '../route-deps.js';
import type { Config } from '../../config/schema.js';
import type { AnswerStream, RequestContext, StepEvent } from '../../pipeline/types.js';
import type { TokenUsage } from '../../models/types.js';
import { ProntoError } from '../../core/errors.js';
import { liveAnswerEvents, primed, type AnswerEvent } from '../answer-stream.js';
import { collectAnswer, conversationOf, pipelineReport } from '../../api/answers.js';
import { flowOfModel, RAG_MODEL } from '../../api/openai.js';
import { contextOf } from '../request-context-of.js';
import { SPLIT_BY_VARIANT } from '../plugins/request-context.js';
import { errorResponses, type Schemas } from '../schemas.js';
import { openAISchemas } from '../openai/schemas.js';
import { openAIErrorBody, withOpenAIErrorFields } from '../openai/errors.js';
import { conversationFromOpenAI, openAIMessageSchema, toolTurnsFromOpenAI, type OpenAIMessage } from '../openai/messages.js';
import { refuseUnsupported, type OpenAIChatOptions } from '../openai/unsupported.js';

/**
 * `POST /v1/chat/completions`, shaped as OpenAI's (the `openai` npm client works unchanged).
 * `model` is a generator from GET /v1/models (plain generation), `pronto-rag` (answers from the
 * default namespace's documents) or `pronto-flow:NAME` (answers with that flow, its steps streamed
 * in chunks OpenAI clients skip). `model` in the reply is the one asked for; the generator that
 * answered (a fallback, when degraded) is `pronto.generator`. Non-standard extras ride in a
 * `pronto` field. `tools` go to generators that call tools (one turn: the calls, or the answer).
 * What pronto cannot honour (n > 1, structured output, tools for other models) is refused with
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
      if (body.tools?.length && body.tool_choice !== 'none') {
        const meta = { id: `chatcmpl-${randomUUID()}`, created: Math.floor(Date.now() / 1000), model: body.model };
        const turn = await toolTurnFor(deps, body, maxTokens, ctx);
        if (!body.stream) return reply.send(toolCallBody(turn, meta, pipelineReport(ctx)));
        return reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache')
          .send(Readable.from(toolCallChunks(turn, meta, body.stream_options?.include_usage === true)));
      }
      const id = `chatcmpl-${randomUUID()}`;
      const created = Math.floor(Date.now() / 1000);
      const limit = maxTokens ?? config.pipeline.max_answer_tokens;
      if (!body.stream) {
        const result = await collectAnswer(answerFor(deps, body, maxTokens, ctx), ctx);
        return reply.send(completionBody(result, { id, created, model: body.model, limit }, ctx.steps));
      }
      // As on /v1/chat: the status line goes out with a flow's first step, else the first token.
      const events = await primed(liveAnswerEvents((onStep) => answerFor(deps, body, maxTokens, ctx, onStep), ctx));
      const chunks = completionChunks(events, { id, created, model: body.model, limit, includeUsage: body.stream_options?.include_usage === true });
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
      tools: Type.Optional(
        Type.Array(
          Type.Object(
            {
              type: Type.Literal('function'),
              function: Type.Object(
                {
                  name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
                  description: Type.Optional(Type.String({ maxLength: 1024 })),
                  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
                },
                { additionalProperties: true },
              ),
            },
            { additionalProperties: true },
          ),
          { maxItems: 32, description: 'Tools the model may call: generators whose backend calls tools (llama, with a grammar; openai). Refused for pronto-rag and other generators' },
        ),
      ),
      tool_choice: Type.Optional(
        Type.Union([
          Type.Literal('none'),
          Type.Literal('auto'),
          Type.Literal('required'),
          Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: Type.String() }) }),
        ]),
      ),
    },
    { additionalProperties: true },
  );
}

type ChatCompletionRequest = Static<ReturnType<typeof chatCompletionRequestSchema>>;

/**
 * `pronto-rag` answers from the default namespace's documents, `pronto-flow:NAME` with flow NAME
 * (each step reported to `onStep`); any other model generates plainly.
 */
function answerFor(
  { config, pipeline }: PipelineRouteDeps,
  body: ChatCompletionRequest,
  maxTokens: number | undefined,
  ctx: RequestContext,
  onStep?: (step: StepEvent) => void,
): AnswerStream {
  const messages = conversationOf({ messages: conversationFromOpenAI(body.messages as OpenAIMessage[]) });
  const input = { messages, namespace: config.sample_corpus.namespace, topK: config.retrieval.default_top_k, maxTokens };
  if (body.model === RAG_MODEL) return pipeline.answer(input, ctx);
  const flow = flowOfModel(body.model);
  if (flow !== undefined) {
    if (!Object.hasOwn(config.flows, flow)) {
      throw new ProntoError('unknown_model', `No model "${body.model}": no flow "${flow}" is configured (GET /v1/models lists them)`, { field: 'model' });
    }
    return pipeline.flow({ ...input, flow, onStep }, ctx);
  }
  const stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  return pipeline.complete({ model: body.model, messages, maxTokens, temperature: body.temperature, stop }, ctx);
}

/** The whole completion in OpenAI's shape, pronto's report in `pronto`. */
function completionBody(
  result: Awaited<ReturnType<typeof collectAnswer>>,
  meta: { id: string; created: number; model: string; limit: number },
  steps: StepEvent[] | undefined,
) {
  return completionEnvelope(meta, { role: 'assistant', content: result.answer }, finishReason(result.usage.completion_tokens, meta.limit), result.usage, {
    generator: result.model,
    citations: result.citations,
    latency_ms: result.latency_ms,
    timings: result.timings,
    degraded: result.degraded,
    variant: result.variant,
    ...(steps ? { steps } : {}),
  });
}

/** One choice in OpenAI's completion envelope. */
function completionEnvelope(
  meta: { id: string; created: number; model: string },
  message: Record<string, unknown>,
  finish: string,
  usage: { prompt_tokens: number; completion_tokens: number },
  pronto: Record<string, unknown>,
) {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
    usage: totalUsage(usage),
    pronto,
  };
}

/**
 * The answer's events as OpenAI chunks. A flow's steps ride in chunks of their own, an empty
 * `delta` with the step in `pronto.step`: OpenAI clients read `delta.content` and skip a delta
 * without it (as they skip the first, role-only one), and ignore the unknown `pronto` field.
 */
async function* completionChunks(
  events: AsyncIterable<AnswerEvent>,
  meta: { id: string; created: number; model: string; limit: number; includeUsage: boolean },
): AsyncGenerator<string> {
  const line = (body: Record<string, unknown>) => `data: ${JSON.stringify(body)}\n\n`;
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
    line({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra });
  yield chunk({ role: 'assistant', content: '' }, null);
  for await (const event of events) {
    if (event.type === 'step') yield chunk({}, null, { pronto: { step: event.data } });
    else if (event.type === 'token') yield chunk({ content: event.data.text }, null);
    else if (event.type === 'error') yield line(openAIErrorBody(event.error!.status, event.error!.toBody()));
    else if (event.type === 'done') {
      const { model, usage, trace_id: _traceId, ...report } = event.data as Record<string, unknown> & { model: string; usage: TokenUsage };
      yield chunk({}, finishReason(usage.completion_tokens, meta.limit), { pronto: { generator: model, ...report } });
      if (meta.includeUsage) {
        yield line({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [], usage: totalUsage(usage) });
      }
    }
  }
  yield 'data: [DONE]\n\n';
}

function finishReason(completionTokens: number, limit: number): 'stop' | 'length' {
  return completionTokens >= limit ? 'length' : 'stop';
}

function totalUsage(usage: { prompt_tokens: number; completion_tokens: number }) {
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

/** One tool-calling turn of the named generator (`pronto-rag` answers from documents and calls no tools). */
function toolTurnFor(
  { pipeline }: PipelineRouteDeps,
  body: ChatCompletionRequest,
  maxTokens: number | undefined,
  ctx: RequestContext,
): ReturnType<PipelineRouteDeps['pipeline']['callTools']> {
  if (body.model === RAG_MODEL) {
    throw new ProntoError('unsupported_parameter', `tools are not supported by ${RAG_MODEL}: it answers from documents`, { field: 'tools' });
  }
  const choice = body.tool_choice;
  return pipeline.callTools(
    {
      model: body.model,
      messages: toolTurnsFromOpenAI(body.messages as OpenAIMessage[]),
      tools: body.tools!.map((tool) => ({ name: tool.function.name, description: tool.function.description, parameters: tool.function.parameters ?? { type: 'object', properties: {} } })),
      toolChoice: choice === undefined || choice === 'none' ? 'auto' : typeof choice === 'string' ? choice : { name: choice.function.name },
      maxTokens,
      temperature: body.temperature,
    },
    ctx,
  );
}

type ToolTurnResult = Awaited<ReturnType<PipelineRouteDeps['pipeline']['callTools']>>;

const wireToolCalls = (turn: ToolTurnResult) =>
  turn.toolCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } }));

/** A tool-calling turn in OpenAI's shape: the calls (content null) or the model's answer. */
function toolCallBody(turn: ToolTurnResult, meta: { id: string; created: number; model: string }, report: ReturnType<typeof pipelineReport>) {
  const calls = wireToolCalls(turn);
  const message = calls.length ? { role: 'assistant', content: turn.content || null, tool_calls: calls } : { role: 'assistant', content: turn.content };
  return completionEnvelope(meta, message, calls.length ? 'tool_calls' : 'stop', turn.usage, { generator: turn.model, citations: [], ...report });
}

/** The same turn as a stream: the role, the text or the calls whole (they are read whole), the end. */
function* toolCallChunks(turn: ToolTurnResult, meta: { id: string; created: number; model: string }, includeUsage: boolean): Generator<string> {
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`;
  const calls = wireToolCalls(turn);
  yield chunk({ role: 'assistant', content: '' }, null);
  if (turn.content) yield chunk({ content: turn.content }, null);
  if (calls.length) yield chunk({ tool_calls: calls.map((call, index) => ({ index, ...call })) }, null);
  yield chunk({}, calls.length ? 'tool_calls' : 'stop');
  if (includeUsage) yield `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [], usage: totalUsage(turn.usage) })}\n\n`;
  yield 'data: [DONE]\n\n';
}
