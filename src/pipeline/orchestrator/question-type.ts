import { decomposeQuestion } from './decompose.js';

export type QuestionType = 'multi_part' | 'yes_no' | 'open';

/** Auxiliary verbs a yes/no question starts with. */
const YES_NO_START = /^\s*(is|are|was|were|do|does|did|can|could|should|will|would|has|have|had|may|must|shall)\b/i;

/**
 * The question's type for a `branch` on `question_type`: `multi_part` when the deterministic
 * planner splits it (decompose.ts), else `yes_no` when it starts with an auxiliary verb, else `open`.
 */
export function questionType(question: string): QuestionType {
  if (decomposeQuestion(question, 2).length > 1) return 'multi_part';
  return YES_NO_START.test(question) ? 'yes_no' : 'open';
}
