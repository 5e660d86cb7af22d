import { Readable } from 'node:stream';
import type { ProntoError } from '../core/errors.js';
import type { AnswerStream, RequestContext, StepEvent } from '../pipeline/types.js';
import { toProntoError } from './plugins/errors.js';
import { pipelineReport, presentHit } from '../api/answers.js';
import type { Hit } from '../retrieval/types.js';
import { traceIdOf } from '../observability/tracing.js';

/** One answer event, as sent over SSE (`event:` name + JSON data) or WebSocket (`{type, ...data}`). */
export interface AnswerEvent {
  type: 'step' | 'contexts' | 'token' | 'done' | 'error';
  data: Record<string, unknown>;
  /** The failure of an `error` event, for transports that answer it with a status (gRPC). */
  error?: ProntoError;
}

/**
 * The events of an answer in order: for a flow, a `step` per step as it ended (reported into
 * `steps`, which this drains); `contexts` (once retrieval is done), a `token` per piece of text as
 * the model produces it, then `done` with timings, degradations and usage. A failure after the
 * stream started becomes an `error` event (the status line has gone already).
 */
export async function* answerEvents(answer: StartedAnswer, ctx: RequestContext, steps: StepEvent[] = []): AsyncGenerator<AnswerEvent> {
  const stepEvents = () => steps.splice(0).map((step): AnswerEvent => ({ type: 'step', data: { ...step } }));
  yield* stepEvents();
  yield { type: 'contexts', data: { contexts: answer.contexts.map(presentHit) } };
  try {
    for await (const text of answer.tokens) {
      yield* stepEvents();
      yield { type: 'token', data: { text } };
    }
    const done = await answer.done;
    yield {
      type: 'done',
      data: { ...pipelineReport(ctx), trace_id: traceIdOf(ctx.trace), usage: done.usage, model: done.model, citations: done.citations },
    };
  } catch (err) {
    if (ctx.deadline.signal.aborted && (ctx.deadline.signal.reason as { code?: string })?.code === 'cancelled') return;
    const error = toProntoError(err);
    yield { type: 'error', data: { ...error.toBody(), ...pipelineReport(ctx) }, error };
  }
}

export interface StartedAnswer {
  contexts: Hit[];
  tokens: AsyncIterable<string>;
  done: AnswerStream['done'];
}

/**
 * Waits for retrieval and the first token before a stream's status line goes out, so a request
 * that cannot produce an answer still gets its real status (404 namespace, 504 deadline...) and
 * Server-Timing carries every stage up to the first token.
 */
export async function startAnswer(answer: AnswerStream): Promise<StartedAnswer> {
  const contexts = await answer.contexts;
  const iterator = answer.tokens[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* tokens(): AsyncGenerator<string> {
    try {
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } finally {
      await iterator.return?.();
    }
  }
  return { contexts, tokens: tokens(), done: answer.done };
}

/**
 * Server-sent events framing. Written by hand because it is four lines of a fixed format; the
 * stream is a Readable so Fastify pipes it with backpressure and destroys it (stopping generation)
 * when the client disconnects.
 */
export function toSse(events: AsyncIterable<AnswerEvent>): Readable {
  async function* frames() {
    for await (const event of events) yield `event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
  }
  return Readable.from(frames(), { objectMode: false });
}
