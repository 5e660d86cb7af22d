import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../runtime.js';
import { answerEvents, collectAnswer, startAnswer, toSse } from '../answer-stream.js';
import { contextOf, conversationOf } from '../present.js';
import { errorResponses, type Schemas } from '../schemas.js';

/** `POST /v1/infer` (one question, whole answer) and `POST /v1/chat` (a conversation, streamed over SSE). */
export function registerAnswerRoutes(app: FastifyInstance, runtime: Runtime, s: Schemas): void {
  const { config, pipeline } = runtime;
  const AnswerBody = Type.Object({
    answer: Type.String(),
    contexts: Type.Array(s.Hit),
    citations: Type.Array(Type.String(), { description: 'Ids of the contexts the answer cites' }),
    usage: s.Usage,
    model: Type.String(),
    latency_ms: Type.Number(),
    timings: s.Timings,
    degraded: s.Degraded,
  });
  const InferBody = Type.Object({ text: s.Text('The question'), ...s.AnswerOptions }, { additionalProperties: false });
  const ChatBody = s.ChatRequest;

  const start = (body: Static<typeof ChatBody>, messages: ReturnType<typeof conversationOf>, ctx: ReturnType<typeof contextOf>) =>
    pipeline.answer(
      {
        messages,
        namespace: body.namespace ?? config.sample_corpus.namespace,
        topK: body.top_k ?? config.retrieval.default_top_k,
        userId: body.user_id,
        filter: body.filter,
        maxTokens: body.max_tokens,
      },
      ctx,
    );

  app.post<{ Body: Static<typeof InferBody> }>(
    '/v1/infer',
    {
      schema: {
        summary: 'Answer a question from the documents (RAG), in one response',
        tags: ['answers'],
        body: InferBody,
        response: { 200: AnswerBody, ...errorResponses(s) },
      },
    },
    async (request) => {
      const ctx = contextOf(request);
      return collectAnswer(start(request.body, conversationOf(request.body), ctx), ctx);
    },
  );

  app.post<{ Body: Static<typeof ChatBody> }>(
    '/v1/chat',
    {
      schema: {
        summary: 'Chat with the documents (RAG), streamed as server-sent events',
        description:
          'Events: `contexts` {contexts}, then `token` {text} per piece of the answer, then `done` {timings, degraded, usage, citations, latency_ms}; ' +
          '`error` {error} if the answer fails after streaming began. With `stream: false` the answer comes as one JSON body.',
        tags: ['answers'],
        body: ChatBody,
        response: { 200: AnswerBody, ...errorResponses(s) },
      },
    },
    async (request, reply) => {
      const ctx = contextOf(request);
      const answer = start(request.body, conversationOf(request.body), ctx);
      if (request.body.stream === false) return collectAnswer(answer, ctx);
      const started = await startAnswer(answer);
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-accel-buffering', 'no')
        .send(toSse(answerEvents(started, ctx)));
    },
  );
}
