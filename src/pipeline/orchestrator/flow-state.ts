import type { TokenUsage } from '../../models/types.js';
import type { Hit } from '../../retrieval/types.js';
import type { createContextRetriever } from '../flows/common.js';
import type { FlowDeps } from '../flows/deps.js';
import type { StageRunner } from '../stage-runner.js';
import type { createGenerateStage } from '../stages/generate.js';
import type { RerankStage } from '../stages/rerank.js';

/** A draft answer a `loop` wrote: the answer itself when the contexts have not changed since. */
export interface Draft {
  text: string;
  citations: string[];
  usage: TokenUsage;
  model: string;
  /** The ids of the contexts it was written from, in order. */
  contextIds: string[];
}

/** What every step runs with: the pipeline's parts and the flow's stage runner and stages. */
export interface StepTools {
  deps: FlowDeps;
  runner: StageRunner;
  retrieveContexts: ReturnType<typeof createContextRetriever>;
  rerank: RerankStage;
  /** The flow's generate stage (a loop's drafts). */
  generate: ReturnType<typeof createGenerateStage>;
}

/** What the steps before the answer build up. */
export interface FlowState {
  question: string;
  parts: string[];
  /** contexts[i]: the contexts found for parts[i], best first. */
  contexts: Hit[][];
  /** Contexts for the whole question from tools, loops and the planner, in the order found. */
  extra: Hit[];
  draft?: Draft;
}

/** `first` then the hits of `second` it does not hold yet. */
export function mergeById(first: Hit[], second: Hit[]): Hit[] {
  const seen = new Set(first.map((hit) => hit.id));
  return [...first, ...second.filter((hit) => !seen.has(hit.id))];
}

/**
 * The parts' contexts as one list, taking each part's best in turn (so the first few contexts a
 * model reads cover every part), each context once: one numbering for every part's citations.
 */
export function interleaveContexts(perPart: Hit[][]): Hit[] {
  const merged = new Map<string, Hit>();
  const longest = Math.max(0, ...perPart.map((hits) => hits.length));
  for (let rank = 0; rank < longest; rank++) {
    for (const hits of perPart) if (hits[rank] && !merged.has(hits[rank].id)) merged.set(hits[rank].id, hits[rank]);
  }
  return [...merged.values()];
}

/** Every context found so far, in the order the answer numbers them: the parts', then the rest's. */
export function allContexts(state: FlowState): Hit[] {
  return interleaveContexts([...state.contexts, state.extra]);
}
