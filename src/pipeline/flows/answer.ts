import { deferred } from '../../core/deferred.js';
import type { ChatMessage, GenerationContext } from '../../models/types.js';
import type { Hit } from '../../retrieval/types.js';
import { createStageRunner } from '../stage-runner.js';
import { createGenerateStage } from '../stages/generate.js';
import { extractCitations } from '../stages/postprocess.js';
import { configFingerprint, normalisedText, sortedKeys, type CachedAnswer, type ResultSlot } from '../result-cache.js';
import { createEmbedStage } from '../stages/embed.js';
import type { AnswerInput, AnswerStream, Pipeline, RequestContext } from '../types.js';
import { createContextRetriever, sanitizeMessages } from './common.js';
import type { FlowDeps } from './deps.js';

/**
 * answer:   results cache -> sanitize -> features -> embed -> retrieve -> rerank -> generate (streamed) -> postprocess
 * complete: sanitize -> generate (streamed) -> postprocess, with a named generator and no retrieval
 * (A flow is a closure: its steps share the runner and the stages built once here.)
 */
export function createAnswerFlow(deps: FlowDeps): Pick<Pipeline, 'answer' | 'complete'> {
  const { config, models } = deps;
  const runner = createStageRunner(config, deps.metrics, deps.tracer, 'answer');
  const retrieveContexts = createContextRetriever(deps, runner);
  const generate = createGenerateStage({ config, metrics: deps.metrics, runner, flow: 'answer' });
  const embed = createEmbedStage({ cache: deps.embeddingCache, runner });
  const configKey = configFingerprint(config);

  /**
   * Generates from prepared messages and contexts; `done` adds the answer's citations. A cached
   * answer comes in the pieces it was generated in; a fresh one fills the request's results-cache slot when it is whole
   * and nothing degraded (a degraded answer is not what the question deserves).
   */
  function streamAnswer(
    ctx: RequestContext,
    prepared: Promise<Prepared>,
    generatorName: string,
    maxTokens: number | undefined,
    sampling: { temperature?: number; stop?: string[] } = {},
  ): AnswerStream {
    prepared.catch(() => undefined);
    const cached = prepared.then((p) => p.cached);
    // Most callers read the tokens and never this: its failure (prepare's) reaches them through `contexts`.
    cached.catch(() => undefined);
    return new LazyAnswerStream(
      prepared.then((p) => p.contexts),
      cached,
      () => generateAnswer(ctx, prepared, generatorName, maxTokens, sampling),
    );
  }

  /** The tokens of a prepared answer (a cached one's pieces, else the generator's) and their `done`. */
  function generateAnswer(
    ctx: RequestContext,
    prepared: Promise<Prepared>,
    generatorName: string,
    maxTokens: number | undefined,
    sampling: { temperature?: number; stop?: string[] },
  ): Pick<AnswerStream, 'tokens' | 'done'> {
    const done = deferred<Awaited<AnswerStream['done']>>();
    async function* tokens(): AsyncGenerator<string> {
      let pending: ToGenerate['pending'];
      try {
        const ready = await prepared;
        if (ready.cached) {
          const { cached } = ready;
          yield* cached.pieces;
          done.resolve({ usage: cached.usage, model: cached.model, citations: cached.citations });
          return;
        }
        const { messages, contexts } = ready;
        pending = ready.pending;
        const generation = generate(
          ctx,
          { messages, contexts: contexts.map(toGenerationContext), maxTokens: maxTokens ?? config.pipeline.max_answer_tokens, answer: config.answer, ...sampling },
          models.generator(generatorName),
          models.has(config.pipeline.fallback_generator) ? models.generator(config.pipeline.fallback_generator) : undefined,
        );
        const pieces: string[] = [];
        for await (const token of generation.tokens) {
          pieces.push(token);
          yield token;
        }
        const answerText = pieces.join('');
        const finished = await generation.done;
        ctx.tokenBudget?.spend(finished.usage.completion_tokens);
        const startedAt = performance.now();
        const citations = extractCitations(answerText, contexts);
        runner.record(ctx, 'postprocess', startedAt, 'ok');
        recordTranscript(ctx, answerText, citations);
        done.resolve({ ...finished, citations });
        if (pending && ctx.degraded.length === 0) {
          pending.slot.fill({ kind: 'answer', question: pending.question, pieces, contexts, usage: finished.usage, model: finished.model, citations });
          if (pending.vector) deps.results.remember(pending.slot, pending.vector, pending.question);
        }
      } catch (err) {
        done.reject(err);
        throw err;
      } finally {
        pending?.slot.fill(undefined);
      }
    }
    return { tokens: tokens(), done: done.promise };
  }

  /**
   * The answer from the results cache (exact, then semantic when on), or the conversation
   * sanitized, the user's features looked up, and contexts for the last question with a slot to
   * fill. The exact lookup comes first, so a hit runs no stage: its key is the conversation as sent
   * (normalised), which holds no more than the sanitized one would (a digest; the redaction rules
   * are in the config fingerprint, so a rule changed never serves an answer built under the old).
   */
  async function prepare(input: AnswerInput, ctx: RequestContext): Promise<Prepared> {
    const request = {
      messages: input.messages.map((m) => ({ role: m.role, content: normalisedText(m.content) })),
      topK: input.topK,
      filter: input.filter && sortedKeys(input.filter),
      maxTokens: input.maxTokens ?? config.pipeline.max_answer_tokens,
      config: configKey,
    };
    const slot = await deps.results.lookup<CachedAnswer>(ctx, 'answer', input.namespace, request);
    if (slot.cached) return fromCache(ctx, slot.cached);
    // Whatever ends this request early, the requests waiting on its answer must not wait for it.
    ctx.deadline.signal.addEventListener('abort', () => slot.fill(undefined), { once: true });
    try {
      const messages = await sanitizeMessages(deps, runner, ctx, input.messages);
      if (input.userId) {
        const userId = input.userId;
        ctx.features = await runner.run(ctx, 'features', (signal) => deps.features.get(userId, signal), {
          name: 'default_features',
          run: () => ({ ...config.features.defaults }),
        });
      }
      const question = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
      let vector: Float32Array | null | undefined;
      // Semantic hits are for one-turn questions: in a conversation the last turn's meaning depends on the rest.
      if (deps.results.semantic && messages.length === 1) {
        vector = await embed.embedQuery(models.embedder(config.pipeline.embedder), question, ctx);
        const similar = vector ? await deps.results.similar(ctx, slot, vector) : undefined;
        if (similar) {
          slot.fill(undefined);
          return fromCache(ctx, similar);
        }
      }
      const contexts = await retrieveContexts(
        ctx,
        { query: question, namespace: input.namespace, topK: input.topK, filter: input.filter },
        'no_context',
        vector,
      );
      return { messages, contexts, pending: { slot, question, vector: vector ?? undefined } };
    } catch (err) {
      slot.fill(undefined);
      throw err;
    }
  }

  return {
    answer: (input, ctx) => streamAnswer(ctx, withinBudget(ctx).then(() => prepare(input, ctx)), config.pipeline.generator, input.maxTokens),

    complete(input, ctx) {
      const prepared = (async (): Promise<Prepared> => {
        await withinBudget(ctx);
        const messages = await sanitizeMessages(deps, runner, ctx, input.messages);
        ctx.transcript.input = messages.map((m) => `${m.role}: ${m.content}`).join('\n');
        return { messages, contexts: [] };
      })();
      return streamAnswer(ctx, prepared, input.model, input.maxTokens, { temperature: input.temperature, stop: input.stop });
    },
  };
}

/**
 * An answer whose tokens and `done` are made when first read: a cached answer sent whole
 * (/v1/infer) reads neither, and its hit then allocates no generator, promise or closures for them.
 * The getters are the class's, not an object literal's: V8 keeps a literal's getter in an accessor
 * pair it allocates in the old generation, so each request's pair, dead at once, held the
 * request's closures and everything they reach through the young-generation collections until
 * the next full one. Every hit's graph was promoted (1.3 KB a hit; docs/BENCHMARKS.md).
 */
class LazyAnswerStream implements AnswerStream {
  private made?: Pick<AnswerStream, 'tokens' | 'done'>;

  constructor(
    readonly contexts: AnswerStream['contexts'],
    readonly cached: NonNullable<AnswerStream['cached']>,
    private readonly generate: () => Pick<AnswerStream, 'tokens' | 'done'>,
  ) {}

  get tokens(): AnswerStream['tokens'] {
    return (this.made ??= this.generate()).tokens;
  }

  get done(): AnswerStream['done'] {
    return (this.made ??= this.generate()).done;
  }
}

/** Refuses an answer before any work once the caller's tokens of this minute are spent. */
async function withinBudget(ctx: RequestContext): Promise<void> {
  await ctx.tokenBudget?.check();
}

/** What generation starts from: the conversation and its contexts, or a cached answer. */
type Prepared = ToGenerate | FromCache;

interface ToGenerate {
  cached?: undefined;
  messages: ChatMessage[];
  contexts: Hit[];
  /** A miss of the results cache: the slot the answer fills, the question, its vector (semantic cache). */
  pending?: { slot: ResultSlot<CachedAnswer>; question: string; vector?: Float32Array };
}

interface FromCache {
  cached: CachedAnswer;
  contexts: Hit[];
}

/** A cached answer's transcript is whole at once: a caller may take the answer without reading its tokens. */
function fromCache(ctx: RequestContext, cached: CachedAnswer): FromCache {
  ctx.transcript.input = cached.question;
  ctx.transcript.retrieved = cached.contexts.map((hit) => ({ id: hit.id, doc_id: hit.docId, score: hit.score }));
  recordTranscript(ctx, cached.pieces.join(''), cached.citations);
  return { contexts: cached.contexts, cached };
}

function recordTranscript(ctx: RequestContext, answer: string, citations: string[]): void {
  ctx.transcript.output = answer;
  ctx.transcript.cited = citations;
}

function toGenerationContext(hit: Hit): GenerationContext {
  return { id: hit.id, text: hit.text, title: hit.title };
}
