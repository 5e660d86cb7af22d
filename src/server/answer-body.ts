import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { answerHead, answerReport, collectAnswer } from '../api/answers.js';
import type { AnswerStream, RequestContext, WholeAnswer } from '../pipeline/types.js';
import type { Schemas } from './schemas.js';

/**
 * The whole answer, as `/v1/infer` and `/v1/chat` with `stream: false` send it: first the
 * answer's own fields (`head`), then the request's report (`report`: latency, timings, variant,
 * cache). The body's schema is the two in that order, so a body is the head's JSON and the
 * report's JSON joined, which lets a cached answer's head be serialized once.
 */
export function answerBodySchemas(s: Schemas) {
  const head = Type.Object({
    answer: Type.String(),
    contexts: Type.Array(s.Hit),
    citations: Type.Array(Type.String(), { description: 'Ids of the contexts the answer cites' }),
    usage: s.Usage,
    model: Type.String(),
  });
  const report = Type.Object({
    latency_ms: Type.Number(),
    timings: s.Timings,
    degraded: s.Degraded,
    variant: s.Variant,
    cache: Type.Optional(s.Cache),
    steps: Type.Optional(Type.Array(s.Step, { description: "With `flow`: the flow's steps, as the stream's `step` events" })),
  });
  return { head, report, body: Type.Object({ ...head.properties, ...report.properties }, { title: 'Answer' }) };
}

export type AnswerBodySchemas = ReturnType<typeof answerBodySchemas>;

/**
 * The reply of a whole answer. A fresh answer is collected and serialized by the route's schema.
 * An answer served by the results cache sends its head's bytes, serialized once per cached answer
 * (the memory tier hands out one object per key, for as long as it keeps it: a hit then costs the
 * report's few fields), followed by this request's own report. Everything per request (headers,
 * request id, variant, timings, cache report) is made afresh; the bytes kept are the answer's.
 * The body goes out as a Buffer: a string joined from the two would be flattened (copied) by
 * Fastify's length check and copied again into the socket write, ~8 KB of heap per hit.
 */
export function createAnswerReplier(schemas: AnswerBodySchemas) {
  const heads = new WeakMap<WholeAnswer, Buffer>();
  return async (reply: FastifyReply, answer: AnswerStream, ctx: RequestContext) => {
    await answer.contexts;
    const cached = await answer.cached;
    if (!cached) return collectAnswer(answer, ctx);
    let head = heads.get(cached);
    if (head === undefined) {
      // Without its closing brace: the report's fields follow.
      head = Buffer.from(reply.serializeInput(answerHead(cached), schemas.head).slice(0, -1));
      heads.set(cached, head);
    }
    const report = reply.serializeInput(answerReport(ctx), schemas.report);
    reply.header('content-type', 'application/json; charset=utf-8');
    return Buffer.concat([head, Buffer.from(`,${report.slice(1)}`)]);
  };
}
