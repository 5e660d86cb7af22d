import type { FlowStepConfig } from '../../config/flows.js';
import type { Redactor } from '../../core/redact.js';
import { runTool } from '../tools/registry.js';
import type { FlowInput, RequestContext, StepEvent } from '../types.js';
import { allContexts, mergeById, type FlowState, type StepTools } from './flow-state.js';

type ToolStep = Extract<FlowStepConfig, { kind: 'tool' }>;

/**
 * A `tool` step: its arguments from config with the placeholders filled, the tool run, what it
 * found added to the contexts. A placeholder with nothing to fill it (no user, no context yet)
 * leaves the step nothing to do: `skipped`, not a failed request.
 */
export async function runToolStep(
  tools: StepTools,
  step: ToolStep,
  state: FlowState,
  input: FlowInput,
  ctx: RequestContext,
): Promise<Partial<StepEvent> | 'skipped'> {
  const values: Record<string, string | undefined> = {
    '{question}': state.question,
    '{user_id}': input.userId,
    '{namespace}': input.namespace,
    '{top_doc_id}': allContexts(state)[0]?.docId,
  };
  let missing = false;
  const args = Object.fromEntries(
    Object.entries(step.arguments).map(([key, value]) => {
      if (typeof value !== 'string') return [key, value];
      return [
        key,
        value.replace(/\{[a-z_]+\}/g, (slot) => {
          if (!(slot in values)) return slot;
          missing ||= !values[slot];
          return values[slot] ?? '';
        }),
      ];
    }),
  );
  if (missing) return 'skipped';
  const outcome = await runTool(step.tool, args, { ctx, input, deps: tools.deps, retrieveContexts: tools.retrieveContexts });
  state.extra = mergeById(state.extra, outcome.contexts);
  return { tool: step.tool, arguments: redactArguments(tools.deps.redactor, args), ids: outcome.contexts.map((hit) => hit.id) };
}

/** A tool's arguments as `step` events and logs show them: every string through the redactor. */
export function redactArguments(redactor: Redactor, args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).map(([key, value]) => [key, typeof value === 'string' ? redactor.redact(value) : value]));
}
