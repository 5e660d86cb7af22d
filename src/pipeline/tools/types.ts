import type { TSchema } from '@sinclair/typebox';
import type { ToolArguments, ToolName } from '../../config/flow-tools.js';
import type { Hit } from '../../retrieval/types.js';
import type { createContextRetriever } from '../flows/common.js';
import type { FlowDeps } from '../flows/deps.js';
import type { FlowInput, RequestContext } from '../types.js';

/** What a tool runs with: the request (its tenant scopes every namespace), the flow's input, the pipeline's parts. */
export interface ToolEnv {
  ctx: RequestContext;
  input: FlowInput;
  deps: FlowDeps;
  retrieveContexts: ReturnType<typeof createContextRetriever>;
}

/** What a tool found: contexts the answer may cite, and what a model planner reads back. */
export interface ToolOutcome {
  contexts: Hit[];
  result: unknown;
}

export interface FlowTool<N extends ToolName = ToolName> {
  name: N;
  description: string;
  /** The JSON schema of its arguments. */
  parameters: TSchema;
  run(args: ToolArguments<N>, env: ToolEnv): Promise<ToolOutcome>;
}
