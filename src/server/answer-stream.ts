import { Readable } from 'node:stream';
import { deferred } from '../core/deferred.js';
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
 * The events of a started answer in order: the `step`s still in `steps` (which this drains, also
 * before each token), `contexts` (once retrieval is done), a `token` per piece of text as the model
 * produces it, then `done` with timings, degradations and usage. A failure after the stream
 * started becomes an `error` event (the status line has gone already).
 */
export async function* answerEvents(answer: StartedAnswer, ctx: RequestContext, steps: StepEvent[] = []): AsyncGenerator<AnswerEvent> {
  const stepEvents = () => steps.splice(0).map(stepEvent);
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
    const event = errorEvent(err, ctx);
    if (event) yield event;
  }
}

/**
 * An answer's events as they happen, for every streaming transport (SSE, WebSocket, the OpenAI
 * route): `begin` starts the answer with an `onStep` callback, and each flow step goes out as it
 * ends, while later steps still run; then, once retrieval is done and the first token is there,
 * the events of `answerEvents`. A failure before the first event throws (so a route can still
 * answer with its status: 404 namespace, 504 deadline...); after it, it is an `error` event. A
 * request without steps therefore holds its first event, and a stream's status line, until its
 * first token, as before; a flow's goes out with its first step.
 */
export async function* liveAnswerEvents(
  begin: (onStep: (step: StepEvent) => void) => AnswerStream,
  ctx: RequestContext,
): AsyncGenerator<AnswerEvent> {
  const steps: StepEvent[] = [];
  let wake = deferred<void>();
  const answer = begin((step) => {
    steps.push(step);
    wake.resolve();
  });
  let outcome: { started: StartedAnswer } | { failed: unknown } | undefined;
  void startAnswer(answer)
    .then(
      (started) => (outcome = { started }),
      (failed: unknown) => (outcome = { failed }),
    )
    .finally(() => wake.resolve());
  let sentAny = false;
  while (outcome === undefined) {
    const step = steps.shift();
    if (step) {
      sentAny = true;
      yield stepEvent(step);
      continue;
    }
    await wake.promise;
    wake = deferred<void>();
  }
  if ('started' in outcome) return yield* answerEvents(outcome.started, ctx, steps);
  if (!sentAny) throw outcome.failed;
  yield* steps.splice(0).map(stepEvent);
  const event = errorEvent(outcome.failed, ctx);
  if (event) yield event;
}

/**
 * Resolves once the stream's first event is there (a failure before it rejects, so the caller can
 * answer it with a status): the stream, that event first.
 */
export async function primed<T>(events: AsyncGenerator<T>): Promise<AsyncGenerator<T>> {
  const first = await events.next();
  return (async function* () {
    try {
      if (first.done) return;
      yield first.value;
      yield* events;
    } finally {
      await events.return(undefined);
    }
  })();
}

const stepEvent = (step: StepEvent): AnswerEvent => ({ type: 'step', data: { ...step } });

/** A failure once streaming began, as an `error` event; none when the client went away (nobody reads it). */
function errorEvent(err: unknown, ctx: RequestContext): AnswerEvent | undefined {
  if (ctx.deadline.signal.aborted && (ctx.deadline.signal.reason as { code?: string })?.code === 'cancelled') return undefined;
  const error = toProntoError(err);
  return { type: 'error', data: { ...error.toBody(), ...pipelineReport(ctx) }, error };
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
