import type { DeadlineConfig } from '../../config/schema.js';
import { abortable, type StageScope } from '../../core/deadline.js';
import { deferred } from '../../core/deferred.js';
import { ProntoError } from '../../core/errors.js';
import type { Metrics } from '../../observability/metrics.js';
import { streamWithFallback } from '../../models/fallback.js';
import type { GenerateRequest, GenerationStream, Generator, TokenUsage } from '../../models/types.js';
import type { StageRunner } from '../stage-runner.js';
import { stageBudgetMs } from '../context.js';
import type { RequestContext } from '../types.js';

export interface Generation {
  tokens: AsyncIterable<string>;
  /** Resolves after the last token with the model that actually answered. */
  done: Promise<{ usage: TokenUsage; model: string }>;
}

/**
 * Streams the answer from the configured generator. If it fails or overruns its budget before the
 * first token, the fallback generator answers instead (flagged); after the first token a failure
 * or a passed deadline ends the stream early, flagged `truncated`, keeping what was sent.
 * Longer than most functions on purpose: one request's stream state (the current attempt's
 * budget scope, tokens produced, outcome) is shared by the attempts, the fallback policy and the
 * truncation handling, and reads best in one place.
 */
export function createGenerateStage(deps: { config: { deadline: Pick<DeadlineConfig, 'budgets'> }; metrics: Metrics; runner: StageRunner; flow: string }) {
  const { config, metrics, runner, flow } = deps;

  return (ctx: RequestContext, request: GenerateRequest, primary: Generator, fallback?: Generator): Generation => {
    const done = deferred<{ usage: TokenUsage; model: string }>();
    let scope: StageScope | undefined;
    /** Why the current attempt failed: the request went away, its deadline passed, the stage budget ran out, or an error. */
    const failure = () => {
      const cancelled = ctx.deadline.expired && (ctx.deadline.signal.reason as ProntoError)?.code === 'cancelled';
      return cancelled ? 'cancelled' : ctx.deadline.expired ? 'deadline' : scope?.overran ? 'timeout' : 'error';
    };
    // Each attempt streams under a fresh generate budget.
    const attempt = (generator: Generator, index: number) => ({
      name: generator.name,
      start(): GenerationStream {
        scope?.dispose();
        const attemptScope = ctx.deadline.scope(stageBudgetMs(ctx, config.deadline.budgets, 'generate'));
        scope = attemptScope;
        const source = generator.generate(request, {
          signal: attemptScope.signal,
          deadlineAt: ctx.deadline.at,
          trace: ctx.trace,
          onFallback: (event) => runner.degrade(ctx, 'generate', event.reason, event.to),
        });
        async function* guarded(): AsyncGenerator<string> {
          // A test fault stands for the primary generator failing, so the fallback can be seen to serve.
          if (index === 0) await runner.injectFault('generate', attemptScope.signal);
          yield* abortable(source, attemptScope.signal);
        }
        return Object.assign(guarded(), { usage: () => source.usage() });
      },
    });

    async function* stream(): AsyncGenerator<string> {
      const startedAt = performance.now();
      let produced = 0;
      let lastTokenAt = 0;
      let outcome = 'ok';
      const candidates = fallback && fallback.name !== primary.name ? [primary, fallback] : [primary];
      const generation = streamWithFallback(
        candidates.map(attempt),
        () => {
          const reason = failure();
          return reason === 'cancelled' || reason === 'deadline' ? undefined : reason;
        },
        (event, err) => {
          outcome = event.reason;
          ctx.logger.warn({ err, model: event.from }, 'generator failed before its first token');
          runner.degrade(ctx, 'generate', event.reason, event.to);
        },
      );
      try {
        for await (const token of generation) {
          const now = performance.now();
          if (produced === 0) metrics.timeToFirstToken.observe({ flow, model: generation.served() }, (now - ctx.startedAt) / 1000);
          else metrics.interTokenLatency.observe({ flow, model: generation.served() }, (now - lastTokenAt) / 1000);
          lastTokenAt = now;
          produced++;
          yield token;
        }
        metrics.tokensGenerated.inc({ model: generation.served() }, produced);
        done.resolve({ usage: generation.usage(), model: generation.served() });
      } catch (err) {
        outcome = failure();
        if (produced > 0 && outcome !== 'cancelled') {
          // The client has the first tokens already: end the answer early, flagged, keeping them.
          runner.degrade(ctx, 'generate', outcome, 'truncated');
          metrics.tokensGenerated.inc({ model: generation.served() }, produced);
          done.resolve({ usage: { prompt_tokens: 0, completion_tokens: produced }, model: generation.served() });
          return;
        }
        const thrown = ctx.deadline.expired ? ctx.deadline.signal.reason : err;
        done.reject(thrown);
        throw thrown;
      } finally {
        scope?.dispose();
        runner.record(ctx, 'generate', startedAt, outcome);
      }
    }

    return { tokens: stream(), done: done.promise };
  };
}

export type GenerateStage = ReturnType<typeof createGenerateStage>;
