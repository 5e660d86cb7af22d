import type { AnswerConfig } from '../config/answer.js';
import type { Context as TraceContext } from '@opentelemetry/api';

/**
 * The model roles. Every backend implements one or more of these; nothing here knows about HTTP.
 * Every call takes a `CallOptions` whose signal carries the request's deadline: a backend stops
 * (or drops queued work) as soon as it aborts.
 */

export type ModelRole = 'embedder' | 'reranker' | 'generator';

/**
 * What an embedder's input is: a search `query`, or a `passage` to be found (ingest). Models
 * trained with instructions (bge's "Represent this sentence for searching relevant passages: ",
 * e5's "query: " / "passage: ") embed each kind with its own prompt; unset, the text goes as it is.
 */
export type InputKind = 'query' | 'passage';

/** The prompt prepended to each kind of input (none: the text as it is). */
export type InputPrompts = Partial<Record<InputKind, string>>;

export interface CallOptions {
  signal: AbortSignal;
  /** Embedders: what the texts are, so a model with prompts prepends the right one (see InputKind). */
  input?: InputKind;
  /** Absolute deadline on the performance.now() clock; admission control uses it. */
  deadlineAt?: number;
  /** Called when a fallback model serves instead of the one asked for (the caller flags `degraded`). */
  onFallback?: (event: FallbackEvent) => void;
  /**
   * `interactive` (default: queries) goes ahead of `bulk` (ingest) in the model queue; bulk work
   * waits up to `bulk_queue_timeout_ms` within its own, longer deadline.
   */
  priority?: 'interactive' | 'bulk';
  /** The request's trace context: the model batch span links to it. */
  trace?: TraceContext;
}

export interface FallbackEvent {
  from: string;
  to: string;
  /** overloaded | circuit_open | error | too_slow */
  reason: string;
}

export interface ModelInfo {
  /** The name clients use (`model` in the OpenAI-compatible routes). */
  name: string;
  role: ModelRole;
  backend: string;
}

export interface Embedder extends ModelInfo {
  role: 'embedder';
  readonly dimensions: number;
  /**
   * The prompt each kind of input gets (onnx: from its options or model directory). A backend does
   * not apply them itself: the served embedder prepends them to each call's texts before batching.
   */
  readonly prompts?: InputPrompts;
  /** One vector per input, L2-normalised. */
  embed(texts: string[], options: CallOptions): Promise<Float32Array[]>;
  /**
   * The least time embedding `items` inputs of `chars` characters in all takes, idle, by the
   * model's measured cost; undefined while unknown (or when the embedder does not measure).
   */
  workMs?(items: number, chars: number): number | undefined;
}

export interface Reranker extends ModelInfo {
  role: 'reranker';
  /** One relevance score per document, higher is better. */
  rerank(query: string, documents: string[], options: CallOptions): Promise<number[]>;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerationContext {
  id: string;
  text: string;
  title?: string;
}

export interface GenerateRequest {
  /** The conversation; the last user message is the question. */
  messages: ChatMessage[];
  /** Retrieved passages the answer should be grounded in (may be empty). */
  contexts: GenerationContext[];
  maxTokens: number;
  temperature?: number;
  stop?: string[];
  /** How to shape the answer (config `answer`); the schema's defaults when absent. */
  answer?: AnswerConfig;
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface Generator extends ModelInfo {
  role: 'generator';
  /**
   * Streams the answer piece by piece. The iterator ends early (without throwing) only when the
   * model finishes; an abort rejects with the signal's reason. `usage` is filled when it ends.
   */
  generate(request: GenerateRequest, options: CallOptions): GenerationStream;
  /**
   * One turn of a tool-calling exchange (OpenAI's `tools`/`tool_calls`): the model answers or
   * calls tools. Only generators whose backend calls tools have it (openai; llama, with a grammar).
   */
  callTools?(request: ToolCallRequest, options: CallOptions): Promise<ToolCallResult>;
}

/** A tool a model may call: its name, what it does, the JSON schema of its arguments. */
export interface ToolSpec {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text, as OpenAI's wire carries them. */
  arguments: string;
}

/** A turn of a tool-calling conversation: the chat roles, an assistant's calls, a tool's result. */
export type ToolTurn =
  | ChatMessage
  | { role: 'assistant'; content: string; tool_calls: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** `auto`: call or answer; `required`: call one of the tools; `{name}`: call that one. */
export type ToolChoice = 'auto' | 'required' | { name: string };

export interface ToolCallRequest {
  messages: ToolTurn[];
  tools: ToolSpec[];
  toolChoice: ToolChoice;
  maxTokens: number;
  temperature?: number;
}

export interface ToolCallResult {
  /** The model's text ('' when it only called tools). */
  content: string;
  toolCalls: ToolCall[];
  usage: TokenUsage;
}

export interface GenerationStream extends AsyncIterable<string> {
  usage(): TokenUsage;
}

export type Model = Embedder | Reranker | Generator;

/** Lifecycle every backend has: load weights, run warmup inputs, free resources. */
export interface ModelLifecycle {
  /** True when inference runs on the event-loop thread (the batcher then defers partial flushes). */
  readonly blocksEventLoop?: boolean;
  load(): Promise<void>;
  warmup(): Promise<void>;
  close(): Promise<void>;
}
