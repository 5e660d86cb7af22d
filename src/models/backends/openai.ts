import { Type } from '@sinclair/typebox';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Agent, request, type Dispatcher } from 'undici';
import { createResilience, type Resilience } from '../../core/circuit-breaker.js';
import { throwIfAborted } from '../../core/deadline.js';
import { ProntoError } from '../../core/errors.js';
import { Hedger } from '../../core/hedge.js';
import { DEFAULT_ANSWER } from '../../config/answer.js';
import type { ModelConfig } from '../../config/models.js';
import { parseOptions } from '../options.js';
import { lastUserMessage, passagesForModel, renderPrompt } from '../prompt.js';
import type { BackendModel } from '../backend.js';
import type {
  CallOptions,
  ChatMessage,
  Embedder,
  GenerateRequest,
  GenerationStream,
  Generator,
  Reranker,
  TokenUsage,
  ToolCallRequest,
  ToolCallResult,
  ToolTurn,
} from '../types.js';
import { normalize } from '../../core/vectors.js';

/**
 * `openai`: any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, TEI, OpenAI, another
 * pronto): `/embeddings`, streamed `/chat/completions`, and a TEI-style `/rerank`. Every call has
 * a timeout and goes through a circuit breaker; idempotent calls (embeddings, rerank) are also
 * retried with backoff and jitter and hedged at the observed p95 within a small budget. A
 * streamed generation is never retried: a second attempt could repeat tokens already sent.
 */
export const OpenAiOptionsSchema = Type.Object({
  /** e.g. http://localhost:11434/v1 */
  base_url: Type.String({ pattern: '^https?://' }),
  /** The remote model id (default: this model's name). */
  model: Type.Optional(Type.String({ minLength: 1 })),
  /** Name of the environment variable holding the API key (keys never live in config files). */
  api_key_env: Type.Optional(Type.String({ minLength: 1 })),
  /** TEI-style rerank endpoint (default: base_url + /rerank). */
  rerank_url: Type.Optional(Type.String({ pattern: '^https?://' })),
  timeout_ms: Type.Integer({ minimum: 1, default: 10000 }),
  retries: Type.Integer({ minimum: 0, default: 2 }),
  retry_initial_delay_ms: Type.Integer({ minimum: 0, default: 50 }),
  retry_max_delay_ms: Type.Integer({ minimum: 1, default: 1000 }),
  breaker_failures: Type.Integer({ minimum: 1, default: 5 }),
  breaker_half_open_ms: Type.Integer({ minimum: 1, default: 5000 }),
  hedge: Type.Boolean({ default: true }),
  hedge_budget: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
  hedge_min_delay_ms: Type.Number({ minimum: 0, default: 5 }),
  max_connections: Type.Integer({ minimum: 1, default: 32 }),
});

type OpenAiOptions = typeof OpenAiOptionsSchema.static;

export function createOpenAi(config: ModelConfig): BackendModel {
  const client = new OpenAiClient(config.name, parseOptions(OpenAiOptionsSchema, config));
  switch (config.role) {
    case 'embedder':
      return new OpenAiEmbedder(config.name, client);
    case 'reranker':
      return new OpenAiReranker(config.name, client);
    case 'generator':
      return new OpenAiGenerator(config.name, client);
  }
}

/** A failure from the remote side; `transient` ones count against the breaker and may be retried. */
export class RemoteError extends ProntoError {
  constructor(
    readonly transient: boolean,
    message: string,
    options: { retryAfterS?: number; cause?: unknown } = {},
  ) {
    super(transient && options.retryAfterS !== undefined ? 'overloaded' : 'upstream_failed', message, options);
  }
}

const isTransient = (err: unknown) => err instanceof RemoteError && err.transient;

/** The HTTP side shared by the three roles: one connection pool, one breaker, one hedger. */
class OpenAiClient {
  readonly model: string;
  private readonly agent: Agent;
  private readonly resilience: Resilience;
  private readonly hedger?: Hedger;

  constructor(
    readonly name: string,
    readonly options: OpenAiOptions,
  ) {
    this.model = options.model ?? name;
    this.agent = new Agent({ connections: options.max_connections, headersTimeout: options.timeout_ms, bodyTimeout: options.timeout_ms });
    this.resilience = createResilience(`model ${name}`, {
      failureThreshold: options.breaker_failures,
      halfOpenAfterMs: options.breaker_half_open_ms,
      retries: options.retries,
      retryInitialDelayMs: options.retry_initial_delay_ms,
      retryMaxDelayMs: options.retry_max_delay_ms,
    }, isTransient);
    if (options.hedge && options.hedge_budget > 0) {
      this.hedger = new Hedger({ budget: options.hedge_budget, minDelayMs: options.hedge_min_delay_ms, minSamples: 20 });
    }
  }

  /** An idempotent JSON POST: breaker, retries, hedging. */
  postIdempotent<T>(url: string, body: unknown, signal: AbortSignal): Promise<T> {
    const attempt = (attemptSignal: AbortSignal) => this.postJson<T>(url, body, attemptSignal);
    return this.resilience.idempotent((s) => (this.hedger ? this.hedger.run(attempt, s) : attempt(s)), signal);
  }

  /** A JSON POST that is not idempotent (a tool-calling turn): breaker only, no retry or hedge. */
  postOnce<T>(url: string, body: unknown, signal: AbortSignal): Promise<T> {
    return this.resilience.once((s) => this.postJson<T>(url, body, s), signal);
  }

  /** Opens a streamed POST once (breaker only) and returns the response body once headers are in. */
  openStream(url: string, body: unknown, signal: AbortSignal): Promise<Dispatcher.ResponseData['body']> {
    return this.resilience.once(async (s) => (await this.send(url, body, s)).body, signal);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async postJson<T>(url: string, body: unknown, signal: AbortSignal): Promise<T> {
    const response = await this.send(url, body, signal);
    try {
      return (await response.body.json()) as T;
    } catch (err) {
      throw this.failure(err, signal, `${url} sent a body that is not JSON`);
    }
  }

  private async send(url: string, body: unknown, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    throwIfAborted(signal);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const key = this.options.api_key_env ? process.env[this.options.api_key_env] : undefined;
    if (key) headers.authorization = `Bearer ${key}`;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, { method: 'POST', dispatcher: this.agent, headers, body: JSON.stringify(body), signal });
    } catch (err) {
      throw this.failure(err, signal, `${url} could not be reached`);
    }
    if (response.statusCode >= 400) {
      const text = (await response.body.text().catch(() => '')).slice(0, 300);
      const retryAfter = Number(response.headers['retry-after']);
      const transient = response.statusCode >= 500 || response.statusCode === 429 || response.statusCode === 408;
      throw new RemoteError(transient, `${url} answered ${response.statusCode}: ${text}`, {
        retryAfterS: response.statusCode === 429 || response.statusCode === 503 ? (Number.isFinite(retryAfter) ? retryAfter : 1) : undefined,
      });
    }
    return response;
  }

  /** A network error or timeout is transient; our own abort is passed on as it is. */
  private failure(err: unknown, signal: AbortSignal, message: string): unknown {
    if (signal.aborted) return signal.reason;
    return new RemoteError(true, `${message}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

/** What the three openai models share: a name, the client they call through, nothing to load or warm. */
abstract class OpenAiModel {
  readonly backend = 'openai';

  constructor(
    readonly name: string,
    protected readonly client: OpenAiClient,
  ) {}

  async load(): Promise<void> {}
  async warmup(): Promise<void> {}
  close(): Promise<void> {
    return this.client.close();
  }
}

class OpenAiEmbedder extends OpenAiModel implements Embedder {
  readonly role = 'embedder' as const;
  dimensions = 0;

  async embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const body = await this.client.postIdempotent<{ data?: Array<{ index: number; embedding: number[] }> }>(
      `${this.client.options.base_url}/embeddings`,
      { model: this.client.model, input: texts, encoding_format: 'float' },
      options.signal,
    );
    const data = body.data ?? [];
    if (data.length !== texts.length) throw new RemoteError(false, `embeddings: sent ${texts.length} inputs, got ${data.length} vectors`);
    const vectors = [...data].sort((a, b) => a.index - b.index).map((d) => normalize(d.embedding));
    this.dimensions = vectors[0].length;
    return vectors;
  }
}

class OpenAiReranker extends OpenAiModel implements Reranker {
  readonly role = 'reranker' as const;

  /** TEI answers `[{index, score}]`; Cohere/Jina-style servers `{results: [{index, relevance_score}]}`. */
  async rerank(query: string, documents: string[], options: CallOptions): Promise<number[]> {
    if (documents.length === 0) return [];
    const url = this.client.options.rerank_url ?? `${this.client.options.base_url}/rerank`;
    type Ranked = { index: number; score?: number; relevance_score?: number };
    const body = await this.client.postIdempotent<Ranked[] | { results?: Ranked[] }>(
      url,
      { model: this.client.model, query, texts: documents, documents, raw_scores: false },
      options.signal,
    );
    const ranked = Array.isArray(body) ? body : (body.results ?? []);
    const scores = new Array<number>(documents.length).fill(Number.NEGATIVE_INFINITY);
    for (const r of ranked) if (r.index >= 0 && r.index < documents.length) scores[r.index] = r.score ?? r.relevance_score ?? Number.NEGATIVE_INFINITY;
    return scores;
  }
}

class OpenAiGenerator extends OpenAiModel implements Generator {
  readonly role = 'generator' as const;

  generate(request: GenerateRequest, options: CallOptions): GenerationStream {
    const usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0 };
    const client = this.client;
    async function* stream(): AsyncGenerator<string> {
      const body = await client.openStream(
        `${client.options.base_url}/chat/completions`,
        {
          model: client.model,
          messages: withContexts(request),
          stream: true,
          stream_options: { include_usage: true },
          max_tokens: request.maxTokens,
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(request.stop?.length ? { stop: request.stop } : {}),
        },
        options.signal,
      );
      const events: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (event) => events.push(event) });
      try {
        for await (const chunk of body) {
          parser.feed(chunk.toString('utf8'));
          for (const event of events.splice(0)) {
            if (event.data === '[DONE]') return;
            const piece = readChunk(event.data, usage);
            if (piece) yield piece;
          }
        }
      } catch (err) {
        if (options.signal.aborted) throw options.signal.reason;
        throw err instanceof ProntoError ? err : new RemoteError(true, `chat stream broke: ${(err as Error).message}`, { cause: err });
      } finally {
        body.destroy();
      }
    }
    return Object.assign(stream(), { usage: () => usage });
  }

  /** One turn with `tools`, not streamed (the calls are read whole); never retried, like a stream. */
  async callTools(request: ToolCallRequest, options: CallOptions): Promise<ToolCallResult> {
    type Reply = {
      choices?: Array<{ message?: { content?: string | null; tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }> } }>;
      usage?: Partial<TokenUsage>;
    };
    const body = await this.client.postOnce<Reply>(
      `${this.client.options.base_url}/chat/completions`,
      {
        model: this.client.model,
        messages: request.messages.map(toWireTurn),
        tools: request.tools.map((tool) => ({ type: 'function', function: tool })),
        tool_choice: typeof request.toolChoice === 'string' ? request.toolChoice : { type: 'function', function: { name: request.toolChoice.name } },
        max_tokens: request.maxTokens,
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      },
      options.signal,
    );
    const message = body.choices?.[0]?.message;
    if (!message) throw new RemoteError(false, 'chat/completions answered without a message');
    return {
      content: message.content ?? '',
      toolCalls: (message.tool_calls ?? []).map((call, i) => ({
        id: call.id ?? `call_${i}`,
        name: call.function?.name ?? '',
        arguments: call.function?.arguments ?? '{}',
      })),
      usage: { prompt_tokens: body.usage?.prompt_tokens ?? 0, completion_tokens: body.usage?.completion_tokens ?? 0 },
    };
  }
}

/** A tool-calling turn as OpenAI's wire carries it. */
function toWireTurn(turn: ToolTurn): Record<string, unknown> {
  if ('tool_calls' in turn) {
    return {
      role: 'assistant',
      content: turn.content || null,
      tool_calls: turn.tool_calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
    };
  }
  return { ...turn };
}

/** One streamed chunk's text; fills `usage` from the final usage chunk; throws on an error event. */
function readChunk(data: string, usage: TokenUsage): string {
  let chunk: { error?: { message?: string }; choices?: Array<{ delta?: { content?: string | null } }>; usage?: Partial<TokenUsage> };
  try {
    chunk = JSON.parse(data);
  } catch {
    throw new RemoteError(false, `chat stream sent an event that is not JSON: ${data.slice(0, 100)}`);
  }
  if (chunk.error) throw new RemoteError(true, `chat stream failed: ${chunk.error.message ?? 'unknown error'}`);
  if (chunk.usage) {
    usage.prompt_tokens = chunk.usage.prompt_tokens ?? usage.prompt_tokens;
    usage.completion_tokens = chunk.usage.completion_tokens ?? usage.completion_tokens;
  }
  const text = chunk.choices?.[0]?.delta?.content ?? '';
  if (text && !chunk.usage) usage.completion_tokens++;
  return text;
}

/**
 * The conversation, its last user message put in the configured prompt (`answer.prompt`) with the
 * best retrieved passages, numbered as the client sees them so the model can cite them as [n].
 */
function withContexts(request: GenerateRequest): ChatMessage[] {
  if (request.contexts.length === 0) return request.messages;
  const prompt = renderPrompt((request.answer ?? DEFAULT_ANSWER).prompt, passagesForModel(request), lastUserMessage(request.messages));
  const last = request.messages.map((m) => m.role).lastIndexOf('user');
  return last < 0 ? [...request.messages, { role: 'user', content: prompt }] : request.messages.map((m, i) => (i === last ? { role: 'user', content: prompt } : m));
}
