import { FLOW_DEFAULTS, type FlowConfig, type FlowStepConfig } from '../../config/flows.js';
import { Deadline } from '../../core/deadline.js';
import { isProntoError } from '../../core/errors.js';
import type { StageRunner } from '../stage-runner.js';
import type { FlowInput, RequestContext, StepEvent } from '../types.js';
import { conditionHolds } from './branch.js';
import { decomposeQuestion } from './decompose.js';
import { mergeById, type FlowState, type StepTools } from './flow-state.js';
import { runLoop } from './loop.js';
import { runPlan } from './planner.js';
import { runToolStep } from './tool-step.js';


/** The flow's budget ran out mid-step: the answer is written from what was found before it. */
class FlowBudgetExhausted extends Error {}

/**
 * Runs a flow's steps up to its `generate` step under the flow's budget, each step under its own
 * budget through the stage runner (timings as `step.<name>`, metrics, spans, degradations), and
 * reports each as it ends. When the flow's budget runs out, the step running stops and the state
 * so far is returned, flagged `budget_exhausted -> best_so_far`; a passed request deadline or a
 * gone client still throws (no answer can be sent then).
 */
export async function runStepsBeforeAnswer(
  tools: StepTools,
  flow: FlowConfig,
  input: FlowInput,
  question: string,
  ctx: RequestContext,
): Promise<FlowState> {
  const state: FlowState = { question, parts: [question], contexts: [[]], extra: [] };
  // A job's flow may use what is left of the job's deadline, as its stages may (ctx.stageBudgets).
  const budgetMs = ctx.stageBudgets ? Infinity : (flow.budget_ms ?? FLOW_DEFAULTS.budget_ms);
  const flowDeadline = ctx.deadline.child(budgetMs);
  const flowCtx: RequestContext = { ...ctx, deadline: flowDeadline };
  try {
    for (const step of flow.steps) {
      if (step.kind === 'generate') break;
      await runStep(tools, step, state, input, flowCtx, ctx);
    }
  } catch (err) {
    if (!(err instanceof FlowBudgetExhausted)) throw err;
    tools.runner.degrade(ctx, 'flow', 'budget_exhausted', 'best_so_far');
  } finally {
    flowDeadline.dispose();
  }
  return state;
}

type StepOutcome = Partial<StepEvent> | 'skipped';
type BranchStep = Extract<FlowStepConfig, { kind: 'branch' }>;

/**
 * A `branch` decides at once (its time, metric and span recorded like any step's), reports the
 * way it took, then runs that way's steps as steps of the flow.
 */
async function runBranch(tools: StepTools, step: BranchStep, state: FlowState, input: FlowInput, flowCtx: RequestContext, ctx: RequestContext) {
  const startedAt = performance.now();
  const holds = conditionHolds(step.if, state);
  const taken = holds ? step.then : (step.else ?? []);
  tools.runner.record(ctx, `step.${step.name ?? step.kind}`, startedAt, 'ok');
  input.onStep?.({
    name: step.name ?? step.kind,
    kind: 'branch',
    status: 'ok',
    ms: roundMs(performance.now() - startedAt),
    start_ms: roundMs(startedAt - ctx.startedAt),
    branch: holds ? 'then' : step.else ? 'else' : 'none',
  });
  for (const inner of taken) await runStep(tools, inner, state, input, flowCtx, ctx);
}

async function runStep(
  tools: StepTools,
  step: FlowStepConfig,
  state: FlowState,
  input: FlowInput,
  flowCtx: RequestContext,
  ctx: RequestContext,
) {
  if (step.kind === 'branch') return runBranch(tools, step, state, input, flowCtx, ctx);
  const perPart = step.kind === 'retrieve' || step.kind === 'rerank';
  const targets = perPart ? state.parts.map((_, i) => i) : [undefined];
  const name = step.name ?? step.kind;
  const onFailure = 'on_failure' in step ? (step.on_failure ?? FLOW_DEFAULTS.on_failure) : FLOW_DEFAULTS.on_failure;
  for (const part of targets) {
    const startedAt = performance.now();
    const degradedBefore = ctx.degraded.length;
    const report = (status: StepEvent['status'], detail: Partial<StepEvent> = {}) =>
      input.onStep?.({
        name,
        kind: step.kind,
        status,
        ms: roundMs(performance.now() - startedAt),
        start_ms: roundMs(startedAt - ctx.startedAt),
        ...(part === undefined ? {} : { part }),
        ...(ctx.degraded.length > degradedBefore ? { degraded: ctx.degraded.slice(degradedBefore) } : {}),
        ...detail,
      });
    let outcome: StepOutcome;
    try {
      outcome = await runBounded(tools.runner, `step.${name}`, step, flowCtx, onFailure, (stepCtx) =>
        stepWork(tools, step, state, input, part, stepCtx),
      );
    } catch (err) {
      if (ctx.deadline.expired) throw ctx.deadline.signal.reason;
      if (!flowCtx.deadline.expired) throw err;
      report('aborted');
      throw new FlowBudgetExhausted();
    }
    if (outcome === 'skipped') report('skipped');
    else report(ctx.degraded.length > degradedBefore ? 'degraded' : 'ok', outcome);
  }
}

/**
 * The step's work under its budget, through the stage runner: a child context whose deadline ends
 * with the step's scope, so the stages inside (embed, retrieve, rerank) stop when the step's budget
 * or the flow's runs out. Its declared fallback (`on_failure: skip`) leaves the state as it was; a
 * client error (an unknown namespace, a bad filter) is the request's to fix and is thrown anyway.
 */
async function runBounded(
  runner: StageRunner,
  stage: string,
  step: FlowStepConfig,
  flowCtx: RequestContext,
  onFailure: 'skip' | 'fail',
  work: (stepCtx: RequestContext) => Promise<StepOutcome>,
): Promise<StepOutcome> {
  const result = await runner.runWithin<StepOutcome | { refused: unknown }>(
    flowCtx,
    stage,
    step.budget_ms ?? Infinity,
    async (signal, scope) => {
      const stepDeadline = Deadline.following(scope);
      try {
        return await work({ ...flowCtx, deadline: stepDeadline });
      } catch (err) {
        if (!signal.aborted && isProntoError(err) && err.status < 500) return { refused: err };
        throw err;
      } finally {
        stepDeadline.dispose();
      }
    },
    onFailure === 'skip' ? { name: 'skipped', run: () => 'skipped' as const } : undefined,
  );
  if (typeof result === 'object' && 'refused' in result) throw result.refused;
  return result;
}

/** One step's work on the state; what it returns goes into its `step` event ('skipped': nothing to do). */
async function stepWork(
  tools: StepTools,
  step: FlowStepConfig,
  state: FlowState,
  input: FlowInput,
  part: number | undefined,
  stepCtx: RequestContext,
): Promise<StepOutcome> {
  const { config, models } = tools.deps;
  switch (step.kind) {
    case 'rewrite':
      state.parts = decomposeQuestion(state.question, step.max_parts ?? FLOW_DEFAULTS.max_parts);
      state.contexts = state.parts.map(() => []);
      return { parts: state.parts };
    case 'retrieve': {
      const i = part!;
      const hits = await tools.retrieveContexts(
        stepCtx,
        {
          query: state.parts[i],
          namespace: step.namespace ?? input.namespace,
          topK: step.top_k ?? input.topK,
          mode: step.mode ?? config.retrieval.default_mode,
          filter: (step.filter as FlowInput['filter']) ?? input.filter,
          rerank: false,
        },
        'throw',
      );
      state.contexts[i] = mergeById(state.contexts[i], hits);
      return { ids: hits.map((hit) => hit.id) };
    }
    case 'rerank': {
      const i = part!;
      const rerankerName = config.pipeline.reranker;
      if (!rerankerName || state.contexts[i].length === 0) return 'skipped';
      state.contexts[i] = await tools.rerank(
        stepCtx,
        models.reranker(rerankerName),
        state.parts[i],
        state.contexts[i],
        config.retrieval.rerank.top_n,
      );
      return { ids: state.contexts[i].map((hit) => hit.id) };
    }
    case 'tool':
      return runToolStep(tools, step, state, input, stepCtx);
    case 'loop':
      return runLoop(tools, step, state, input, stepCtx);
    case 'plan':
      return runPlan(tools, step, state, input, stepCtx);
    case 'generate':
    case 'branch':
      return 'skipped';
  }
}

const roundMs = (ms: number) => Math.round(ms * 10) / 10;
