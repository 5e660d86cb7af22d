import { Value } from '@sinclair/typebox/value';
import { TOOL_ARGUMENTS, TOOL_DESCRIPTIONS, type ToolName } from '../../config/flow-tools.js';
import { invalidInput } from '../../core/errors.js';
import { fetchDocument } from './fetch-document.js';
import { lookupFeatures } from './lookup-features.js';
import { searchNamespace } from './search-namespace.js';
import type { FlowTool, ToolEnv, ToolOutcome } from './types.js';

const RUNS: { [N in ToolName]: FlowTool<N>['run'] } = {
  search_namespace: searchNamespace,
  fetch_document: fetchDocument,
  lookup_features: lookupFeatures,
};

/** The registered tool of that name. */
export function flowTool<N extends ToolName>(name: N): FlowTool<N> {
  return { name, description: TOOL_DESCRIPTIONS[name], parameters: TOOL_ARGUMENTS[name], run: RUNS[name] };
}

/**
 * Runs a tool after checking its arguments against its schema (a model's call may not fit it):
 * `invalid_input` naming the argument when they do not.
 */
export async function runTool(name: ToolName, args: unknown, env: ToolEnv): Promise<ToolOutcome> {
  const tool = flowTool(name);
  const error = Value.Errors(tool.parameters, args).First();
  if (error) throw invalidInput(`arguments${error.path.replaceAll('/', '.')}`, `${name}: ${error.message}`);
  return (tool.run as FlowTool['run'])(args as never, env);
}
