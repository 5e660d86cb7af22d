import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PipelineRouteDeps } from '../route-deps.js';
import { answerFor, answerInputFrom } from '../../api/answers.js';
import { answerBodySchemas, createAnswerReplier, type AnswerBodySchemas } from '../answer-body.js';
import { liveAnswerEvents, primed, toSse } from '../answer-stream.js';
import { contextOf } from '../request-context-of.js';
import { SPLIT_BY_VARIANT } from '../plugins/request-context.js';
import { errorResponses, type Schemas } from '../schemas.js';

/** `POST /v1/infer` (one question, whole answer) and `POST /v1/chat` (a conversation, streamed over SSE). */
export function registerAnswerRoutes(app: FastifyInstance, deps: PipelineRouteDeps, s: Schemas): void {
  const bodies = answerBodySchemas(s);
  const replier = createAnswerReplier(bodies);
  registerInferRoute(app, deps, s, bodies.body, replier);
  registerChatRoute(app, deps, s, bodies.body, replier);
}

type AnswerBodySchema = AnswerBodySchemas['body'];
type AnswerReplier = ReturnType<typeof createAnswerReplier>;

function registerInferRoute(app: FastifyInstance, { config, pipeline }: PipelineRouteDeps, s: Schemas, AnswerBody: AnswerBodySchema, replyWith: AnswerReplier): void {
  const InferBody = s.InferRequest;
  app.post<{ Body: Static<typeof InferBody> }>(
    '/v1/infer',
    {
      config: SPLIT_BY_VARIANT,
      schema: {
        summary: 'Answer a question from the documents (RAG), in one response',
        tags: ['answers'],
        body: InferBody,
        response: { 200: AnswerBody, ...errorResponses(s) },
      },
    },
    async (request, reply) => {
      const ctx = contextOf(request);
      return replyWith(reply, pipeline.answer(answerInputFrom(request.body, config), ctx), ctx);
    },
  );
}

function registerChatRoute(app: FastifyInstance, { config, pipeline }: PipelineRouteDeps, s: Schemas, AnswerBody: AnswerBodySchema, replyWith: AnswerReplier): void {
  const ChatBody = s.ChatRequest;
  app.post<{ Body: Static<typeof ChatBody> }>(
    '/v1/chat',
    {
      // SSE unless the body says `stream: false` (a whole answer holds no stream slot).
      config: { ...SPLIT_BY_VARIANT, stream: (body) => (body as { stream?: boolean }).stream !== false },
      schema: {
        summary: 'Chat with the documents (RAG), streamed as server-sent events',
        description:
          'Events: with `flow`, first a `step` {name, kind, status, ms, start_ms, part?, parts?, ids?, degraded?} per step of the flow, each sent as its step ends (docs/FLOWS.md); ' +
          'then `contexts` {contexts}, then `token` {text} per piece of the answer (a cached answer comes as one token), then `done` {timings, degraded, usage, citations, latency_ms, cache, trace_id (when the request is traced)}; ' +
          '`error` {error} if the answer fails after streaming began. The status line goes out with the first event (a flow\'s first step, else the first token): ' +
          'a failure after it is an `error` event carrying the catalogue error, not a status. With `stream: false` the answer comes as one JSON body.',
        tags: ['answers'],
        body: ChatBody,
        response: {
          200: {
            description: 'Server-sent events (the default), or with `stream: false` the answer as one JSON body',
            content: {
              'text/event-stream': {
                schema: Type.String({
                  description:
                    'Events `step` (with `flow`: one per step), `contexts`, `token` (one per piece of the answer), `done`; `error` if the answer fails after streaming began',
                }),
              },
              'application/json': { schema: AnswerBody },
            },
          },
          ...errorResponses(s),
        },
      },
    },
    async (request, reply) => {
      const ctx = contextOf(request);
      if (request.body.stream === false) return replyWith(reply, answerFor(pipeline, request.body, config, ctx), ctx);
      // The status line goes out with the first event: a flow's first step, else the first token.
      const events = await primed(liveAnswerEvents((onStep) => answerFor(pipeline, request.body, config, ctx, onStep), ctx));
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-accel-buffering', 'no')
        .send(toSse(events));
    },
  );
}
