import { isAbstention } from '../../models/backends/extractive.js';
import { mean, percentile } from '../../retrieval/eval/metrics.js';
import { answerWords, bestSubspanEm, firstSentence, normalizeAnswer } from './answer-metrics.js';

/** One question as answered through the pipeline. */
export interface AnswerOutcome {
  question: string;
  answers: string[];
  answer: string;
  contexts: Array<{ doc_id: string; title?: string; text: string }>;
  goldIds: string[];
  latencyMs: number;
  /** Time in the answer stage (generate + postprocess). */
  answerStageMs: number;
  /** CPU time the extractive reader takes to compose this answer from these contexts. */
  readerCpuMs: number;
}

export interface AnswerScores {
  em: 0 | 1;
  emFirstSentence: 0 | 1;
  goldInContexts: boolean;
  /** A gold answer string occurs in some context: the question can be answered from them. */
  answerInContexts: boolean;
  abstained: boolean;
  words: number;
}

export function scoreAnswer(outcome: AnswerOutcome): AnswerScores {
  const contextText = outcome.contexts.map((c) => normalizeAnswer(`${c.title ?? ''} ${c.text}`)).join(' | ');
  return {
    em: bestSubspanEm(outcome.answer, outcome.answers),
    emFirstSentence: bestSubspanEm(firstSentence(outcome.answer), outcome.answers),
    goldInContexts: outcome.contexts.some((c) => outcome.goldIds.includes(c.doc_id)),
    answerInContexts: outcome.answers.some((a) => contextText.includes(normalizeAnswer(a))),
    abstained: isAbstention(outcome.answer),
    words: answerWords(outcome.answer),
  };
}

const pct = (part: number, whole: number) => (whole === 0 ? null : Number(((100 * part) / whole).toFixed(1)));
const ms = (values: number[]) => ({ p50: Number(percentile(values, 50).toFixed(2)), p95: Number(percentile(values, 95).toFixed(2)) });

/** Percentages over the questions, answer length and latency percentiles. */
export function summarizeAnswers(outcomes: AnswerOutcome[]) {
  const scores = outcomes.map(scoreAnswer);
  const count = (pick: (s: AnswerScores) => boolean) => scores.filter(pick).length;
  const answerable = count((s) => s.answerInContexts);
  const unanswerable = scores.length - answerable;
  return {
    questions: outcomes.length,
    best_subspan_em: { answer: pct(count((s) => s.em === 1), scores.length), first_sentence: pct(count((s) => s.emFirstSentence === 1), scores.length) },
    gold_in_contexts: pct(count((s) => s.goldInContexts), scores.length),
    answer_in_contexts: pct(answerable, scores.length),
    abstention: {
      rate: pct(count((s) => s.abstained), scores.length),
      /** Of the questions whose answer is in no context: declined, and answered with no gold answer (confidently wrong). */
      when_not_in_contexts: pct(count((s) => !s.answerInContexts && s.abstained), unanswerable),
      wrong_when_not_in_contexts: pct(count((s) => !s.answerInContexts && !s.abstained && s.em === 0), unanswerable),
      /** Of the questions whose answer is in some context: declined anyway. */
      when_in_contexts: pct(count((s) => s.answerInContexts && s.abstained), answerable),
    },
    answer_words: { mean: Number(mean(scores.map((s) => s.words)).toFixed(1)), p50: percentile(scores.map((s) => s.words), 50) },
    latency_ms: ms(outcomes.map((o) => o.latencyMs)),
    answer_stage_ms: ms(outcomes.map((o) => o.answerStageMs)),
    reader_cpu_ms: ms(outcomes.map((o) => o.readerCpuMs)),
  };
}
