import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AnswerStream } from '../../pipeline/types.js';
import type { Runtime } from '../../runtime.js';
import { startAnswer, type StartedAnswer } from '../answer-stream.js';
import { toProntoError } from '../plugins/errors.js';
import { collectAnswer, conversationOf, pipelineReport } from '../../pipeline/answers.js';
import { contextOf } from '../request-context-of.js';
import { errorResponses, type Schemas } from '../schemas.js';

/** The model id that runs the whole RAG pipeline (retrieval + the configured generator). */
export const RAG_MODEL = 'pronto-rag';

/**
 * `POST /v1/chat/completions`, shaped as OpenAI's (the `openai` npm client works unchanged).
 * `model` is a generator from GET /v1/models (plain generation) or `pronto-rag` (answers from the
 * default namespace's documents). Non-standard extras ride in a `pronto` field.
 */
export function registerChatCompletionsRoute(app: FastifyInstance, runtime: Runtime, s: Schemas): void {
  const { config, pipeline } = runtime;
  const Body = Type.Object(
    {
      model: Type.String({ minLength: 1 }),
      messages: Type.Array(s.Message, { minItems: 1, maxItems: config.limits.max_messages }),
      stream: Type.Optional(Type.Boolean()),
      stream_options: Type.Optional(Type.Object({ include_usage: Type.Optional(Type.Boolean()) })),
      max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: config.limits.max_tokens })),
      max_completion_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: config.limits.max_tokens })),
      temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
      stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 })])),
      user: Type.Optional(Type.String()),
    },
    { additionalProperties: true },
  );

  app.post<{ Body: Static<typeof Body> }>(
    '/v1/chat/completions',
    {
      schema: {
        summary: 'Chat completions (OpenAI-compatible; stream or not)',
        tags: ['openai'],
        body: Body,
        response: { ...errorResponses(s) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const ctx = contextOf(request);
      const messages = conversationOf({ messages: body.messages });
      const maxTokens = body.max_completion_tokens ?? body.max_tokens;
      const answer: AnswerStream =
        body.model === RAG_MODEL
          ? pipeline.answer({ messages, namespace: config.sample_corpus.namespace, topK: config.retrieval.default_top_k, maxTokens }, ctx)
          : pipeline.complete(
              { model: body.model, messages, maxTokens, temperature: body.temperature, stop: typeof body.stop === 'string' ? [body.stop] : body.stop },
              ctx,
            );
      const id = `chatcmpl-${randomUUID()}`;
      const created = Math.floor(Date.now() / 1000);
      const limit = maxTokens ?? config.pipeline.max_answer_tokens;
      if (!body.stream) {
        const result = await collectAnswer(answer, ctx);
        return reply.send({
          id,
          object: 'chat.completion',
          created,
          model: result.model,
          choices: [
            { index: 0, message: { role: 'assistant', content: result.answer }, finish_reason: finishReason(result.usage.completion_tokens, limit), logprobs: null },
          ],
          usage: totalUsage(result.usage),
          pronto: { citations: result.citations, latency_ms: result.latency_ms, timings: result.timings, degraded: result.degraded },
        });
      }
      const started = await startAnswer(answer);
      const chunks = completionChunks(started, { id, created, model: body.model, limit, includeUsage: body.stream_options?.include_usage === true }, ctx);
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(Readable.from(chunks));
    },
  );
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
    yield chunk({}, finishReason(done.usage.completion_tokens, meta.limit), { pronto: { citations: done.citations, ...report } });
    if (meta.includeUsage) {
      yield `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [], usage: totalUsage(done.usage) })}\n\n`;
    }
  } catch (err) {
    yield `data: ${JSON.stringify(toProntoError(err).toBody())}\n\n`;
  }
  yield 'data: [DONE]\n\n';
}

function finishReason(completionTokens: number, limit: number): 'stop' | 'length' {
  return completionTokens >= limit ? 'length' : 'stop';
}

function totalUsage(usage: { prompt_tokens: number; completion_tokens: number }) {
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}
