import type { Config } from '../../config/schema.js';
import { abortable } from '../../core/deadline.js';
import { deferred } from '../../core/deferred.js';
import { ProntoError } from '../../core/errors.js';
import type { Metrics } from '../../observability/metrics.js';
import type { GenerateRequest, Generator, TokenUsage } from '../../models/types.js';
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
 */
export function createGenerateStage(deps: { config: Config; metrics: Metrics; runner: StageRunner; flow: string }) {
  const { config, metrics, runner, flow } = deps;

  return (ctx: RequestContext, request: GenerateRequest, primary: Generator, fallback?: Generator): Generation => {
    const done = deferred<{ usage: TokenUsage; model: string }>();

    async function* stream(): AsyncGenerator<string> {
      const startedAt = performance.now();
      let produced = 0;
      let lastTokenAt = 0;
      let outcome = 'ok';
      const candidates = fallback && fallback.name !== primary.name ? [primary, fallback] : [primary];
      try {
        for (const [attempt, generator] of candidates.entries()) {
          const scope = ctx.deadline.scope(stageBudgetMs(ctx, config.deadline.budgets, 'generate'));
          try {
            const fault = attempt === 0 ? config.faults.generate : undefined;
            if (fault?.mode === 'throw') throw new ProntoError('upstream_failed', 'injected fault in stage generate');
            const generation = generator.generate(request, {
              signal: scope.signal,
              deadlineAt: ctx.deadline.at,
              onFallback: (event) => runner.degrade(ctx, 'generate', event.reason, event.to),
            });
            for await (const token of abortable(generation, scope.signal)) {
              const now = performance.now();
              if (produced === 0) metrics.timeToFirstToken.observe({ flow, model: generator.name }, (now - ctx.startedAt) / 1000);
              else metrics.interTokenLatency.observe({ flow, model: generator.name }, (now - lastTokenAt) / 1000);
              lastTokenAt = now;
              produced++;
              yield token;
            }
            metrics.tokensGenerated.inc({ model: generator.name }, produced);
            done.resolve({ usage: generation.usage(), model: generator.name });
            return;
          } catch (err) {
            const cancelled = ctx.deadline.expired && (ctx.deadline.signal.reason as ProntoError)?.code === 'cancelled';
            const reason = cancelled ? 'cancelled' : ctx.deadline.expired ? 'deadline' : scope.overran ? 'timeout' : 'error';
            outcome = reason;
            if (cancelled) throw ctx.deadline.signal.reason;
            if (produced > 0) {
              runner.degrade(ctx, 'generate', reason, 'truncated');
              metrics.tokensGenerated.inc({ model: generator.name }, produced);
              done.resolve({ usage: { prompt_tokens: 0, completion_tokens: produced }, model: generator.name });
              return;
            }
            const next = candidates[attempt + 1];
            if (!next || ctx.deadline.expired) throw ctx.deadline.expired ? ctx.deadline.signal.reason : err;
            ctx.logger.warn({ err, model: generator.name }, 'generator failed before its first token');
            runner.degrade(ctx, 'generate', reason, next.name);
          } finally {
            scope.dispose();
          }
        }
      } catch (err) {
        done.reject(err);
        throw err;
      } finally {
        runner.record(ctx, 'generate', startedAt, outcome);
      }
    }

    return { tokens: stream(), done: done.promise };
  };
}

export type GenerateStage = ReturnType<typeof createGenerateStage>;
