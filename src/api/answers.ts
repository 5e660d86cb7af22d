import type { RetrievalConfig } from '../config/retrieval.js';
import type { SampleCorpusConfig } from '../config/schema.js';
import { ProntoError } from '../core/errors.js';
import type { ChatMessage } from '../models/types.js';
import type { Filter, Hit } from '../retrieval/types.js';
import type { AnswerInput, AnswerStream, Pipeline, RequestContext, SearchInput, StepEvent, WholeAnswer } from '../pipeline/types.js';

/**
 * Answers in the API's shape, shared by the HTTP routes and the job handlers (a job's result is
 * what the synchronous route would have answered).
 */

/** The fields every answer request may carry (`/v1/infer`, `/v1/chat`, WebSocket, jobs). */
export interface AnswerRequestBody {
  text?: string;
  messages?: ChatMessage[];
  namespace?: string;
  top_k?: number;
  user_id?: string;
  filter?: Filter;
  max_tokens?: number;
  /** A configured multi-step flow to answer with (`flows` in config) instead of the answer flow. */
  flow?: string;
}

/** `{messages}` or `{text}` (a one-turn chat); the conversation must end with a user turn. */
export function conversationOf(body: Pick<AnswerRequestBody, 'messages' | 'text'>): ChatMessage[] {
  if (body.messages && body.text !== undefined) {
    throw new ProntoError('invalid_input', 'Send either messages or text, not both', { field: 'messages' });
  }
  const messages = body.messages ?? (body.text !== undefined ? [{ role: 'user' as const, content: body.text }] : undefined);
  if (!messages || messages.length === 0) {
    throw new ProntoError('invalid_input', 'messages (or text) is required', { field: 'messages' });
  }
  if (messages[messages.length - 1].role !== 'user') {
    throw new ProntoError('invalid_input', 'The last message must be from the user', {
      field: `messages[${messages.length - 1}].role`,
    });
  }
  return messages;
}

/** The settings a request's defaults come from (the composed `Config` satisfies it). */
export interface RequestDefaults {
  sample_corpus: Pick<SampleCorpusConfig, 'namespace'>;
  retrieval: Pick<RetrievalConfig, 'default_top_k' | 'default_mode' | 'rerank'>;
}

/** The pipeline's answer input from a request body, with the configured defaults. */
export function answerInputFrom(body: AnswerRequestBody, config: RequestDefaults): AnswerInput {
  return {
    messages: conversationOf(body),
    namespace: body.namespace ?? config.sample_corpus.namespace,
    topK: body.top_k ?? config.retrieval.default_top_k,
    userId: body.user_id,
    filter: body.filter,
    maxTokens: body.max_tokens,
  };
}

/**
 * The answer to a request body: from its flow when it names one (each step reported to `onStep`
 * as it ends), else from the answer flow.
 */
export function answerFor(
  pipeline: Pick<Pipeline, 'answer' | 'flow'>,
  body: AnswerRequestBody,
  config: RequestDefaults,
  ctx: RequestContext,
  onStep?: (event: StepEvent) => void,
): AnswerStream {
  const input = answerInputFrom(body, config);
  return body.flow === undefined ? pipeline.answer(input, ctx) : pipeline.flow({ ...input, flow: body.flow, onStep }, ctx);
}

/** The fields of a search request (`/v1/search`, gRPC `Search`). */
export interface SearchRequestBody {
  query: string;
  top_k?: number;
  namespace?: string;
  filter?: Filter;
  mode?: SearchInput['mode'];
  fusion?: SearchInput['fusion'];
  rerank?: boolean;
}

/** The pipeline's search input from a request body, with the configured defaults. */
export function searchInputFrom(body: SearchRequestBody, config: RequestDefaults): SearchInput {
  return {
    query: body.query,
    namespace: body.namespace ?? config.sample_corpus.namespace,
    topK: body.top_k ?? config.retrieval.default_top_k,
    // Mode and reranking left unsent are the serving variant's defaults (the flow fills them).
    mode: body.mode,
    fusion: body.fusion,
    filter: body.filter,
    rerank: body.rerank,
  };
}

export function presentHit(hit: Hit) {
  return { id: hit.id, doc_id: hit.docId, score: hit.score, text: hit.text, title: hit.title, metadata: hit.metadata };
}

/** Latency, stage timings, degradations, the variant and (for cached flows) whether the cache served it: the report every pipeline response carries. */
export function pipelineReport(ctx: RequestContext) {
  return {
    variant: ctx.variant,
    latency_ms: Math.round((performance.now() - ctx.startedAt) * 10) / 10,
    timings: Object.fromEntries(Object.entries(ctx.timings).map(([stage, ms]) => [stage, Math.round(ms * 100) / 100])),
    degraded: ctx.degraded,
    ...(ctx.cache ? { cache: ctx.cache } : {}),
  };
}

/** The whole answer at once, for the non-streaming routes and jobs. */
export async function collectAnswer(answer: AnswerStream, ctx: RequestContext) {
  const contexts = await answer.contexts;
  const cached = await answer.cached;
  if (cached) return { ...answerHead(cached), ...answerReport(ctx) };
  let text = '';
  for await (const token of answer.tokens) text += token;
  const done = await answer.done;
  return { answer: text, contexts: contexts.map(presentHit), citations: done.citations, usage: done.usage, model: done.model, ...answerReport(ctx) };
}

/** The part of an answer's body that is the answer's own (the rest is `answerReport`, the request's). */
export function answerHead(answer: WholeAnswer) {
  return { answer: answer.pieces.join(''), contexts: answer.contexts.map(presentHit), citations: answer.citations, usage: answer.usage, model: answer.model };
}

/** The request's part of an answer's body: its pipeline report and, for a flow, its steps. */
export function answerReport(ctx: RequestContext) {
  return {
    ...pipelineReport(ctx),
    // A flow's answer carries its steps, as its stream carried them.
    ...(ctx.steps?.length ? { steps: ctx.steps } : {}),
  };
}
