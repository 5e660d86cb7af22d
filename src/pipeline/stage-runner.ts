import type { DeadlineConfig, FaultsConfig, StageName } from '../config/schema.js';
import { raceAbort, sleep, type StageScope } from '../core/deadline.js';
import { ProntoError } from '../core/errors.js';
import type { Tracer } from '@opentelemetry/api';
import type { Metrics } from '../observability/metrics.js';
import { endSpan } from '../observability/tracing.js';
import { stageBudgetMs } from './context.js';
import type { RequestContext } from './types.js';

/** What a stage runs instead when it throws or overruns its budget. */
export interface Fallback<T> {
  /** Names what served instead, for `degraded` (e.g. `sparse`, `fused_order`). */
  name: string;
  run: () => T | Promise<T>;
}

export interface StageRunner {
  /**
   * Runs one stage under its budget with the request's signal. On a throw or an overrun it runs
   * the fallback (flagging `degraded` and counting it); without one it rethrows. When the whole
   * request aborted (deadline or client gone) it always rethrows: no fallback can help then.
   */
  run<T>(ctx: RequestContext, stage: StageName, work: (signal: AbortSignal) => Promise<T>, fallback?: Fallback<T>): Promise<T>;
  /**
   * `run` with a budget of the caller's (a flow's step, named in config), not a stage's. The work
   * also gets the scope, to hand its end on to the stages it runs (`Deadline.following`).
   */
  runWithin<T>(
    ctx: RequestContext,
    stage: string,
    budgetMs: number,
    work: (signal: AbortSignal, scope: StageScope) => Promise<T>,
    fallback?: Fallback<T>,
  ): Promise<T>;
  /** Records a degradation that did not come from a stage failure (e.g. a model fallback chain). */
  degrade(ctx: RequestContext, stage: string, reason: string, fallback: string): void;
  /** Adds a stage's timing, metric and span without running it through `run` (streaming stages). */
  record(ctx: RequestContext, stage: string, startedAt: number, outcome: string): void;
  /**
   * The one place test faults (`faults` in config) take effect: throws or stalls as configured
   * for the stage. `run` calls it before the work; streaming stages call it themselves.
   */
  injectFault(stage: StageName | string, signal: AbortSignal): Promise<void>;
}

/** The settings a stage runner reads: stage budgets and test faults. */
export interface StageRunnerConfig {
  deadline: Pick<DeadlineConfig, 'budgets'>;
  faults: FaultsConfig;
}

export function createStageRunner(config: StageRunnerConfig, metrics: Metrics, tracer: Tracer, flow: string): StageRunner {
  const record = (ctx: RequestContext, stage: string, startedAt: number, outcome: string) => {
    const ms = performance.now() - startedAt;
    ctx.timings[stage] = (ctx.timings[stage] ?? 0) + ms;
    metrics.stageDuration.observe({ flow, stage, outcome }, ms / 1000);
    const span = tracer.startSpan(stage, { startTime: performance.timeOrigin + startedAt, attributes: { 'pronto.flow': flow } }, ctx.trace);
    // What served instead when this stage degraded (`reason->fallback`, e.g. `timeout->sparse`).
    const degraded = ctx.degraded.filter((d) => d.stage === stage).map((d) => `${d.reason}->${d.fallback}`);
    endSpan(span, outcome, degraded.length > 0 ? { 'pronto.degraded': degraded.join(',') } : {});
  };
  const degrade = (ctx: RequestContext, stage: string, reason: string, fallback: string) => {
    ctx.degraded.push({ stage, reason, fallback });
    metrics.degradations.inc({ stage, reason, variant: ctx.variant });
    ctx.logger.warn({ stage, reason, fallback }, 'stage degraded');
  };

  const injectFault = async (stage: string, signal: AbortSignal) => {
    const fault = config.faults[stage];
    if (fault?.mode === 'throw') throw new ProntoError('upstream_failed', `injected fault in stage ${stage}`);
    if (fault?.mode === 'delay') await sleep(fault.delay_ms ?? 0, signal);
  };

  async function runWithin<T>(
    ctx: RequestContext,
    stage: string,
    budgetMs: number,
    work: (signal: AbortSignal, scope: StageScope) => Promise<T>,
    fallback?: Fallback<T>,
  ): Promise<T> {
    const startedAt = performance.now();
    const scope = ctx.deadline.scope(budgetMs);
    let outcome = 'ok';
    try {
      const faulted = injectFault(stage, scope.signal).then(() => work(scope.signal, scope));
      return await raceAbort(faulted, scope.signal);
    } catch (err) {
      if (ctx.deadline.expired) {
        outcome = 'aborted';
        throw ctx.deadline.signal.reason;
      }
      outcome = scope.overran ? 'timeout' : 'error';
      if (!fallback) throw err;
      ctx.logger.warn({ err, stage }, 'stage failed, running its fallback');
      degrade(ctx, stage, outcome, fallback.name);
      return fallback.run();
    } finally {
      record(ctx, stage, startedAt, outcome);
      scope.dispose();
    }
  }

  return {
    record,
    degrade,
    injectFault,
    run(ctx, stage, work, fallback) {
      return runWithin(ctx, stage, stageBudgetMs(ctx, config.deadline.budgets, stage), work, fallback);
    },
    runWithin,
  };
}
