import type { Context as TraceContext } from '@opentelemetry/api';
import type { BaseLogger } from 'pino';

/** The logging a stage needs; both pino and Fastify's request logger provide it. */
export type ContextLogger = Pick<BaseLogger, 'debug' | 'info' | 'warn' | 'error'>;
import type { StepKind } from '../config/flows.js';
import type { StageName } from '../config/schema.js';
import type { Deadline } from '../core/deadline.js';
import type { Transcript } from '../observability/request-log.js';
import type { ChatMessage, TokenUsage, ToolCallResult, ToolChoice, ToolSpec, ToolTurn } from '../models/types.js';
import type { DocumentInput, Filter, FusionMethod, Hit, IngestResult, SearchMode } from '../retrieval/types.js';

/** One request's state as it flows through the stages. */
export interface RequestContext {
  requestId: string;
  /** Tenant from auth (`public` without auth); every namespace is scoped to it. */
  tenant: string;
  /** The pipeline variant serving the request (`default` when none are configured; docs/CONFIG.md#variants). */
  variant: string;
  deadline: Deadline;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** Stage name -> milliseconds, in the order the stages ran (becomes Server-Timing). */
  timings: Record<string, number>;
  degraded: Degradation[];
  logger: ContextLogger;
  /** The request's trace context: stage spans are its children. */
  trace?: TraceContext;
  /**
   * Stage budgets of this request instead of `deadline.budgets` (the interactive ones). Jobs set
   * it: a stage it does not list may use all that is left of the job's deadline.
   */
  stageBudgets?: Partial<Record<StageName, number>>;
  /** What the request asked, retrieved and answered, after redaction (for the request log). */
  transcript: Transcript;
  /** The caller key's generated-token budget (undefined: no limit). */
  tokenBudget?: TokenBudget;
  /** The namespaces the caller's API key may use (patterns; undefined: all). */
  namespaces?: readonly string[];
  /** Filled by the features stage when the request names a user. */
  features?: Record<string, string>;
  /** Set by flows that consult the result cache: whether the result came from it, and whence. */
  cache?: CacheReport;
  /** A multi-step flow's step events so far, in order (the dashboard's request view draws them). */
  steps?: StepEvent[];
}

/** Whether a result was served from the cache (the `cache` body field and `X-Pronto-Cache` header). */
export interface CacheReport {
  hit: boolean;
  /** Where the result was: this process's memory, Redis, or an identical request's answer in flight. */
  tier?: 'memory' | 'redis' | 'in_flight';
  /** A semantic hit: the earlier question whose answer served this one, and the cosine between them. */
  question?: string;
  similarity?: number;
}

/** A caller's budget of generated tokens (per API key and minute). */
export interface TokenBudget {
  /** Refuses (429) once the budget is spent: checked before any work for an answer. */
  check(): Promise<void>;
  /** Counts the tokens an answer generated, when it ends. */
  spend(tokens: number): void;
}

export interface Degradation {
  stage: string;
  reason: string;
  /** What served instead (e.g. `sparse`, `extractive`, `fused_order`, `no_context`). */
  fallback: string;
}

export interface SearchInput {
  query: string;
  namespace: string;
  topK: number;
  /** Absent: the variant's (else the configured) retrieval.default_mode. */
  mode?: SearchMode;
  filter?: Filter;
  /** Absent: retrieval.rerank.enabled of the variant (else of the config). */
  rerank?: boolean;
  fusion?: FusionMethod;
}

export interface SearchResult {
  hits: Hit[];
}

export interface AnswerInput {
  messages: ChatMessage[];
  namespace: string;
  topK: number;
  userId?: string;
  maxTokens?: number;
  filter?: Filter;
}

/** A multi-step flow from config (`flows`) answering a question; steps are reported as they end. */
export interface FlowInput extends AnswerInput {
  flow: string;
  /** Called as each step ends (and as the answer starts): `step` events, a job's progress. */
  onStep?: (event: StepEvent) => void;
}

/** One step of a flow, as streamed (`step` events) and kept in a flow job's progress. */
export interface StepEvent {
  /** The step's name in the flow (its kind unless named). */
  name: string;
  /** A tool call the model planner made is reported as a `tool` event named after its `plan` step. */
  kind: StepKind;
  /**
   * `ok`; `degraded` (a fallback served, see `degraded`); `skipped` (failed and `on_failure:
   * skip`, or nothing to do); `aborted` (the flow's budget ran out during it); `running` (generate,
   * sent as the answer starts).
   */
  status: 'ok' | 'degraded' | 'skipped' | 'aborted' | 'running';
  ms: number;
  /** When the step started: ms from the request's start (`ms` later it ended; the waterfall). */
  start_ms: number;
  /** The part of the question the step worked on (0-based), for per-part steps. */
  part?: number;
  /** rewrite: the parts of the question. */
  parts?: string[];
  /** retrieve, rerank: the context ids, best first; tool, loop: the contexts they added. */
  ids?: string[];
  /** The fallbacks taken during the step (the `degraded` entries it added), when any. */
  degraded?: Degradation[];
  /** tool: the tool called. */
  tool?: string;
  /** tool: its arguments, every string through the redactor. */
  arguments?: Record<string, unknown>;
  /** A planner's tool call that failed: the error's code (the planner read it and went on). */
  error?: string;
  /** loop: the rounds that wrote a draft. */
  rounds?: number;
  /** loop: the contexts its last draft cites. */
  cited?: number;
  /** branch: the way taken (`none`: the condition failed and there is no `else`). */
  branch?: 'then' | 'else' | 'none';
  /** plan: the tool calls it made, and the tokens its model calls used. */
  calls?: number;
  tokens?: number;
}

export interface AnswerStream {
  /** Resolves once retrieval is done (first SSE event). */
  contexts: Promise<Hit[]>;
  tokens: AsyncIterable<string>;
  /** Resolves after the last token. */
  done: Promise<{ usage: TokenUsage; model: string; citations: string[] }>;
  /**
   * Resolves with `contexts`: the whole answer when the results cache served it (then `tokens`
   * need not be read: `done` resolves only if they are), else undefined. Flows without a cache
   * leave it out.
   */
  cached?: Promise<WholeAnswer | undefined>;
}

/**
 * An answer as the results cache keeps it. The memory tier hands out the same object on every
 * hit of its key, so what is derived from it (a response's serialized bytes) can be kept with it.
 */
export interface WholeAnswer {
  /** The question the answer was made for (a semantic hit names it). */
  question: string;
  /** The answer in the pieces it was generated in: a stream of a cached answer replays them. */
  pieces: string[];
  contexts: Hit[];
  usage: TokenUsage;
  model: string;
  citations: string[];
}

export interface EmbedInput {
  texts: string[];
  model?: string;
}

/** Plain generation with a named model, no retrieval (the OpenAI-compatible route). */
export interface CompleteInput {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  stop?: string[];
}

/** One tool-calling turn with a named model (the OpenAI-compatible route with `tools`). */
export interface ToolTurnInput {
  model: string;
  messages: ToolTurn[];
  tools: ToolSpec[];
  toolChoice: ToolChoice;
  maxTokens?: number;
  temperature?: number;
}

export interface Pipeline {
  complete(input: CompleteInput, ctx: RequestContext): AnswerStream;
  /** A tool-calling turn: `unsupported_parameter` (field `tools`) for a model that does not call tools. */
  callTools(input: ToolTurnInput, ctx: RequestContext): Promise<ToolCallResult & { model: string }>;
  search(input: SearchInput, ctx: RequestContext): Promise<SearchResult>;
  answer(input: AnswerInput, ctx: RequestContext): AnswerStream;
  /** Runs a configured flow (`flows` in config); `unknown_flow` (404) for a name it lacks. */
  flow(input: FlowInput, ctx: RequestContext): AnswerStream;
  embed(input: EmbedInput, ctx: RequestContext): Promise<{ vectors: Float32Array[]; model: string; tokens: number }>;
  ingest(namespace: string, documents: DocumentInput[], ctx: RequestContext): Promise<IngestResult>;
  deleteDocument(namespace: string, docId: string, ctx: RequestContext): Promise<number>;
}
