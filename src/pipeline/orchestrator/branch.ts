import type { BranchConditionConfig } from '../../config/flows.js';
import { isAbstention } from '../../models/backends/extractive.js';
import { questionType } from './question-type.js';
import { allContexts, type FlowState } from './flow-state.js';

/**
 * Whether a `branch` step's condition holds on what the steps before it found (docs/FLOWS.md):
 * `abstained` reads the latest draft (a loop's): an abstention, or a draft citing nothing; with
 * no draft yet, nothing has been answered, so it reads as abstained.
 */
export function conditionHolds(condition: BranchConditionConfig, state: FlowState): boolean {
  if ('top_score_below' in condition) {
    const best = Math.max(-Infinity, ...allContexts(state).map((hit) => hit.score));
    return best < condition.top_score_below;
  }
  if ('contexts_below' in condition) return allContexts(state).length < condition.contexts_below;
  if ('abstained' in condition) {
    const abstained = !state.draft || isAbstention(state.draft.text) || state.draft.citations.length === 0;
    return abstained === condition.abstained;
  }
  return questionType(state.question) === condition.question_type;
}
