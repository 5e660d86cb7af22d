import { deferred } from '../../core/deferred.js';
import type { ChatMessage, GenerationContext } from '../../models/types.js';
import type { Hit } from '../../retrieval/types.js';
import { createStageRunner } from '../stage-runner.js';
import { createGenerateStage } from '../stages/generate.js';
import { extractCitations } from '../stages/postprocess.js';
import type { AnswerInput, AnswerStream, Pipeline, RequestContext } from '../types.js';
import { createContextRetriever, sanitizeMessages } from './common.js';
import type { FlowDeps } from './deps.js';

/**
 * answer:   sanitize -> features -> embed -> retrieve -> rerank -> generate (streamed) -> postprocess
 * complete: sanitize -> generate (streamed) -> postprocess, with a named generator and no retrieval
 * (A flow is a closure: its steps share the runner and the stages built once here.)
 */
export function createAnswerFlow(deps: FlowDeps): Pick<Pipeline, 'answer' | 'complete'> {
  const { config, models } = deps;
  const runner = createStageRunner(config, deps.metrics, deps.tracer, 'answer');
  const retrieveContexts = createContextRetriever(deps, runner);
  const generate = createGenerateStage({ config, metrics: deps.metrics, runner, flow: 'answer' });

  /** Generates from prepared messages and contexts; `done` adds the answer's citations. */
  function streamAnswer(
    ctx: RequestContext,
    prepared: Promise<{ messages: ChatMessage[]; contexts: Hit[] }>,
    generatorName: string,
    maxTokens: number | undefined,
    sampling: { temperature?: number; stop?: string[] } = {},
  ): AnswerStream {
    prepared.catch(() => undefined);
    const done = deferred<Awaited<AnswerStream['done']>>();
    async function* tokens(): AsyncGenerator<string> {
      try {
        const { messages, contexts } = await prepared;
        const generation = generate(
          ctx,
          { messages, contexts: contexts.map(toGenerationContext), maxTokens: maxTokens ?? config.pipeline.max_answer_tokens, answer: config.answer, ...sampling },
          models.generator(generatorName),
          models.has(config.pipeline.fallback_generator) ? models.generator(config.pipeline.fallback_generator) : undefined,
        );
        let answerText = '';
        for await (const token of generation.tokens) {
          answerText += token;
          yield token;
        }
        const finished = await generation.done;
        ctx.tokenBudget?.spend(finished.usage.completion_tokens);
        const startedAt = performance.now();
        const citations = extractCitations(answerText, contexts);
        runner.record(ctx, 'postprocess', startedAt, 'ok');
        ctx.transcript.output = answerText;
        ctx.transcript.cited = citations;
        done.resolve({ ...finished, citations });
      } catch (err) {
        done.reject(err);
        throw err;
      }
    }
    return { contexts: prepared.then((p) => p.contexts), tokens: tokens(), done: done.promise };
  }

  /** The conversation sanitized, the user's features looked up, and contexts for the last question. */
  async function prepare(input: AnswerInput, ctx: RequestContext) {
    const messages = await sanitizeMessages(deps, runner, ctx, input.messages);
    if (input.userId) {
      const userId = input.userId;
      ctx.features = await runner.run(ctx, 'features', (signal) => deps.features.get(userId, signal), {
        name: 'default_features',
        run: () => ({ ...config.features.defaults }),
      });
    }
    const question = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const contexts = await retrieveContexts(
      ctx,
      { query: question, namespace: input.namespace, topK: input.topK, filter: input.filter },
      'no_context',
    );
    return { messages, contexts };
  }

  return {
    answer: (input, ctx) => streamAnswer(ctx, withinBudget(ctx).then(() => prepare(input, ctx)), config.pipeline.generator, input.maxTokens),

    complete(input, ctx) {
      const prepared = (async () => {
        await withinBudget(ctx);
        const messages = await sanitizeMessages(deps, runner, ctx, input.messages);
        ctx.transcript.input = messages.map((m) => `${m.role}: ${m.content}`).join('\n');
        return { messages, contexts: [] as Hit[] };
      })();
      return streamAnswer(ctx, prepared, input.model, input.maxTokens, { temperature: input.temperature, stop: input.stop });
    },
  };
}

/** Refuses an answer before any work once the caller's tokens of this minute are spent. */
async function withinBudget(ctx: RequestContext): Promise<void> {
  await ctx.tokenBudget?.check();
}

function toGenerationContext(hit: Hit): GenerationContext {
  return { id: hit.id, text: hit.text, title: hit.title };
}
