import { TOOL_NAMES, type ToolName } from '../../config/flow-tools.js';
import { FLOW_DEFAULTS, type FlowStepConfig } from '../../config/flows.js';
import { isProntoError, ProntoError } from '../../core/errors.js';
import type { ToolSpec, ToolTurn } from '../../models/types.js';
import { flowTool, runTool } from '../tools/registry.js';
import type { FlowInput, RequestContext, StepEvent } from '../types.js';
import { mergeById, type FlowState, type StepTools } from './flow-state.js';
import { redactArguments } from './tool-step.js';

type PlanStep = Extract<FlowStepConfig, { kind: 'plan' }>;

/** Tokens one planner turn may generate: a call is short; the rest of the token budget stays for later turns. */
const TURN_MAX_TOKENS = 256;
/** A tool's result as the planner reads it back: enough to choose the next call, not the whole document. */
const RESULT_MAX_CHARS = 1500;
/** Query strings a model writes are kept short: a small model's grammar-bound string runs to its bound. */
const QUERY_MAX_CHARS = 48;

/**
 * The model-driven planner (a `plan` step): a generator that calls tools is shown the question
 * and the tools, calls them, reads their results, and calls again until it answers, `max_calls`
 * calls ran or its turns used `token_budget` tokens. Its first turn must call a tool (the step
 * exists to gather evidence); later ones may answer. What the tools find joins the contexts the
 * `generate` step answers from (and cites); each call is a `tool` event named after the step. A
 * call that fails (bad arguments, an unknown namespace) is reported to the model and flagged in
 * its event; the planner goes on.
 */
export async function runPlan(
  tools: StepTools,
  step: PlanStep,
  state: FlowState,
  input: FlowInput,
  ctx: RequestContext,
): Promise<Partial<StepEvent>> {
  const { config, models } = tools.deps;
  const name = step.name ?? step.kind;
  const generator = models.generator(step.model ?? config.pipeline.generator);
  const callTools = generator.callTools?.bind(generator);
  if (!callTools) throw new ProntoError('unsupported_parameter', `Model ${generator.name} does not call tools`, { field: 'model' });
  const namespaces = step.namespaces ?? [input.namespace];
  const specs = toolSpecs(step.tools ?? TOOL_NAMES, namespaces, input.userId);
  const maxCalls = step.max_calls ?? FLOW_DEFAULTS.max_calls;
  const tokenBudget = step.token_budget ?? FLOW_DEFAULTS.token_budget;
  const messages: ToolTurn[] = [{ role: 'user', content: state.question }];
  let calls = 0;
  let tokens = 0;
  while (calls < maxCalls && tokens < tokenBudget) {
    const turnStartedAt = performance.now();
    const turn = await tools.runner.runWithin(ctx, `step.${name}.model`, Infinity, (signal) =>
      callTools(
        { messages, tools: specs, toolChoice: calls === 0 ? 'required' : 'auto', maxTokens: Math.min(TURN_MAX_TOKENS, tokenBudget - tokens) },
        { signal, deadlineAt: ctx.deadline.at, trace: ctx.trace },
      ),
    );
    tokens += turn.usage.prompt_tokens + turn.usage.completion_tokens;
    ctx.logger.debug({ step: name, ms: performance.now() - turnStartedAt, calls: turn.toolCalls.length }, 'planner turn');
    if (turn.toolCalls.length === 0) break;
    const calling = turn.toolCalls.slice(0, maxCalls - calls);
    messages.push({ role: 'assistant', content: turn.content, tool_calls: calling });
    for (const call of calling) {
      calls++;
      messages.push({ role: 'tool', tool_call_id: call.id, content: await runCall(tools, name, call, namespaces, state, input, ctx) });
    }
  }
  return { calls, tokens };
}

/** Runs one call the model made, reports it as a `tool` event, and returns what the model reads back. */
async function runCall(
  tools: StepTools,
  stepName: string,
  call: { name: string; arguments: string },
  namespaces: string[],
  state: FlowState,
  input: FlowInput,
  ctx: RequestContext,
): Promise<string> {
  const startedAt = performance.now();
  let args: Record<string, unknown> = {};
  const report = (status: StepEvent['status'], detail: Partial<StepEvent>) =>
    input.onStep?.({
      name: stepName,
      kind: 'tool',
      status,
      ms: Math.round((performance.now() - startedAt) * 10) / 10,
      start_ms: Math.round((startedAt - ctx.startedAt) * 10) / 10,
      tool: call.name,
      arguments: redactArguments(tools.deps.redactor, args),
      ...detail,
    });
  try {
    args = JSON.parse(call.arguments) as Record<string, unknown>;
    if (!(TOOL_NAMES as string[]).includes(call.name)) throw new ProntoError('invalid_input', `no tool named "${call.name}"`, { field: 'name' });
    if (typeof args.namespace === 'string' && !namespaces.includes(args.namespace)) {
      throw new ProntoError('forbidden_namespace', `this planner may use the namespaces ${namespaces.join(', ')}`, { field: 'arguments.namespace' });
    }
    const outcome = await tools.runner.runWithin(ctx, `step.${stepName}.${call.name}`, Infinity, () =>
      runTool(call.name as ToolName, args, { ctx, input, deps: tools.deps, retrieveContexts: tools.retrieveContexts }),
    );
    state.extra = mergeById(state.extra, outcome.contexts);
    report('ok', { ids: outcome.contexts.map((hit) => hit.id) });
    return JSON.stringify(outcome.result).slice(0, RESULT_MAX_CHARS);
  } catch (err) {
    if (ctx.deadline.expired) throw err;
    const code = isProntoError(err) ? err.code : err instanceof SyntaxError ? 'invalid_json' : 'internal';
    report('skipped', { error: code });
    return JSON.stringify({ error: code, message: (err as Error).message });
  }
}

/**
 * The tools as the model sees them, narrowed to what this request may do: search and fetch name
 * one of the step's namespaces (an enum, so a grammar-bound model cannot name another), queries
 * are short, and `lookup_features` is offered only for the request's own user.
 */
function toolSpecs(names: readonly ToolName[], namespaces: string[], userId: string | undefined): ToolSpec[] {
  return names
    .filter((name) => name !== 'lookup_features' || userId !== undefined)
    .map((name) => {
      const tool = flowTool(name);
      const properties = { ...(tool.parameters.properties as Record<string, Record<string, unknown>>) };
      if (properties.namespace) properties.namespace = { type: 'string', enum: namespaces };
      if (properties.query) properties.query = { ...properties.query, maxLength: QUERY_MAX_CHARS };
      if (properties.user_id) properties.user_id = { type: 'string', const: userId };
      return { name, description: tool.description, parameters: { type: 'object', properties, required: Object.keys(properties) } };
    });
}
