/**
 * The extractive reader's weights chosen by K-fold cross-validation over saved contexts (not part
 * of the test suite). `pronto eval-answers DIR --out FILE` saves each question with the contexts
 * the pipeline retrieved for it; this re-reads those contexts with every setting of a grid, so a
 * tuning run takes seconds and never re-retrieves. Each fold picks the setting best on the other
 * folds (first-sentence + whole-answer best_subspan_em, among settings whose answers average
 * ≤ `--max-words`) and scores its own questions with it, so the held-out figures never saw their
 * questions. Prints JSON: the shipped weights on every question, the held-out tuned figures, the
 * setting each fold chose, and the abstention rates for a range of abstention thresholds.
 *
 *   PRONTO_DATA_DIR=/tmp/nq node bin/pronto.js eval-answers ../shared/data/nq-open-dev --out /tmp/nq.jsonl
 *   node --import tsx bench/reader-cv.ts /tmp/nq.jsonl [--folds 5] [--max-words 40] [--max-sentences 2]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { composeAnswer } from '../src/models/backends/extractive.js';
import { READER_WEIGHTS, type ReaderWeights } from '../src/models/reader/reader.js';
import { scoreAnswer, summarizeAnswers, type AnswerOutcome } from '../src/pipeline/eval/evaluate-answers.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    folds: { type: 'string', default: '5' },
    'max-words': { type: 'string', default: '40' },
    'max-sentences': { type: 'string', default: '2' },
  },
});
const folds = Number(values.folds);
const maxWords = Number(values['max-words']);
const style = { max_sentences: Number(values['max-sentences']), concise: false };
const outcomes: AnswerOutcome[] = readFileSync(positionals[0], 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as AnswerOutcome);

/** Every combination of the listed values, the rest as shipped. */
function grid(axes: Partial<Record<keyof ReaderWeights, number[]>>): ReaderWeights[] {
  let settings: ReaderWeights[] = [{ ...READER_WEIGHTS }];
  for (const [key, options] of Object.entries(axes) as Array<[keyof ReaderWeights, number[]]>) {
    settings = settings.flatMap((s) => options.map((v) => ({ ...s, [key]: v })));
  }
  return settings;
}
const SETTINGS = grid({
  title: [1, 2, 3],
  rank: [0.2, 0.35, 0.5],
  type: [0.25, 0.5, 1],
  support: [0.85, 0.88, 0.92],
});

const answerWith = (w: ReaderWeights) =>
  outcomes.map((o) => ({ ...o, answer: composeAnswer({ messages: [{ role: 'user', content: o.question }], contexts: o.contexts.map((c) => ({ id: c.doc_id, ...c })) }, style, w) }));

// Per setting, per question: [em, em first sentence, words].
const perQuestion = SETTINGS.map((w) => answerWith(w).map(scoreAnswer));
const objective = (setting: number, questions: number[]) => {
  const scores = questions.map((q) => perQuestion[setting][q]);
  const words = scores.reduce((sum, s) => sum + s.words, 0) / scores.length;
  return words > maxWords ? -Infinity : scores.reduce((sum, s) => sum + s.em + s.emFirstSentence, 0);
};
const heldOut: AnswerOutcome[] = [];
const chosen: Array<Partial<ReaderWeights>> = [];
for (let fold = 0; fold < folds; fold++) {
  const train = outcomes.map((_, i) => i).filter((i) => i % folds !== fold);
  let best = 0;
  for (let s = 1; s < SETTINGS.length; s++) if (objective(s, train) > objective(best, train)) best = s;
  const answers = answerWith(SETTINGS[best]);
  outcomes.forEach((_, i) => i % folds === fold && heldOut.push(answers[i]));
  const { title, rank, type, support } = SETTINGS[best];
  chosen.push({ title, rank, type, support });
}
// Abstention against its threshold (question coverage under which the reader declines): what it
// costs on questions the contexts answer, what it saves on those they do not.
const abstention = [0.1, 0.2, 0.3, 0.4, 0.5].map((abstain) => ({ abstain, ...summarizeAnswers(answerWith({ ...READER_WEIGHTS, abstain })).abstention }));
const figures = ({ best_subspan_em, abstention, answer_words }: ReturnType<typeof summarizeAnswers>) => ({ best_subspan_em, abstention, answer_words });
console.log(
  JSON.stringify(
    { questions: outcomes.length, folds, max_words: maxWords, style, grid: SETTINGS.length, shipped: figures(summarizeAnswers(answerWith(READER_WEIGHTS))), held_out: figures(summarizeAnswers(heldOut)), chosen_per_fold: chosen, abstention },
    null,
    1,
  ),
);
