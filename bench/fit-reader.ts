/**
 * Fits the extractive reader's sentence ranker (src/models/reader/ranker.ts) on the contexts
 * `pronto eval-answers DIR --out FILE` saved, and reports it 5-fold cross-validated: each fold's
 * questions are answered by a ranker fitted, and thresholds chosen, on the other folds only, so the
 * held-out figures never saw their questions. `--write` then fits on every question and writes
 * src/models/reader/ranker-weights.json. Not part of the test suite; a run takes about 20 s of CPU.
 *
 *   PRONTO_DATA_DIR=/tmp/nq node bin/pronto.js eval-answers ../shared/data/nq-open-dev --out /tmp/nq.jsonl
 *   node --import tsx bench/fit-reader.ts /tmp/nq.jsonl [--folds 5] [--max-words 40] [--l2 0.01] [--pointwise] [--without FEATURE] [--write]
 *
 * The model is a conditional logit: a question's sentences and "none of them" compete in one
 * softmax, the sentences that hold a gold answer being the right choices (their probabilities
 * summed), "none" when no sentence holds one. It is written here, about forty lines, because the
 * maintained JavaScript learners fit pointwise classifiers (ml-logistic-regression: one sigmoid per
 * row, fixed-step gradient descent, no regularisation), which cannot express "which of these
 * sentences", nor give a calibrated "none" to abstain on; `--pointwise` fits the pointwise
 * logistic loss with the same optimiser, for the comparison in docs/BENCHMARKS.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { answerFrom, sentencesToRead } from '../src/models/backends/extractive.js';
import { FEATURES, candidatesOf, type Candidate } from '../src/models/reader/features.js';
import { analyzeQuestion, type Question } from '../src/models/reader/question.js';
import { readCandidates } from '../src/models/reader/reader.js';
import type { RankerModel } from '../src/models/reader/ranker.js';
import { normalizeAnswer } from '../src/pipeline/eval/answer-metrics.js';
import { scoreAnswer, summarizeAnswers, type AnswerOutcome } from '../src/pipeline/eval/evaluate-answers.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    folds: { type: 'string', default: '5' },
    'max-words': { type: 'string', default: '40' },
    'max-sentences': { type: 'string', default: '2' },
    l2: { type: 'string', default: '0.01' },
    without: { type: 'string', multiple: true, default: [] },
    pointwise: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const folds = Number(values.folds);
const maxWords = Number(values['max-words']);
const style = { max_sentences: Number(values['max-sentences']), concise: false };
const l2 = Number(values.l2);
const outcomes: AnswerOutcome[] = readFileSync(positionals[0], 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as AnswerOutcome);

/** One question's sentences as the ranker sees them: features, and which hold a gold answer. */
interface Example {
  question: Question;
  candidates: Candidate[];
  features: Float64Array[];
  gold: boolean[];
}
const contextsOf = (o: AnswerOutcome) => o.contexts.map((c) => ({ id: c.doc_id, ...c }));
const examples: Example[] = outcomes.map((o) => {
  const question = analyzeQuestion(o.question);
  const candidates = candidatesOf(question, contextsOf(o));
  const answers = o.answers.map(normalizeAnswer);
  return { question, candidates, features: candidates.map((c) => c.features), gold: candidates.map((c) => answers.some((a) => normalizeAnswer(c.text).includes(a))) };
});

/** Features left out of a fit (`--without NAME`), to measure what each adds. */
const mask = FEATURES.map((name) => !(values.without as string[]).includes(name));

/**
 * Fits weights and bias over the questions by full-batch gradient descent (Adam) on standardised
 * features with an L2 penalty, then maps them back to raw feature scale, so the ranker at serving
 * time only takes a dot product.
 */
function fit(questions: Example[], mask: boolean[]): Pick<RankerModel, 'weights' | 'bias'> {
  const n = FEATURES.length;
  const rows = questions.flatMap((q) => q.features);
  const mean = new Float64Array(n);
  const std = new Float64Array(n);
  for (const r of rows) for (let f = 0; f < n; f++) mean[f] += r[f] / rows.length;
  for (const r of rows) for (let f = 0; f < n; f++) std[f] += (r[f] - mean[f]) ** 2 / rows.length;
  for (let f = 0; f < n; f++) std[f] = mask[f] && std[f] > 1e-12 ? Math.sqrt(std[f]) : 0;
  // Rows flattened into one array (question q's rows are offsets[q]..offsets[q+1]): the loop below runs 1,500 times.
  const x = new Float64Array(rows.length * n);
  rows.forEach((r, k) => r.forEach((value, f) => (x[k * n + f] = std[f] ? (value - mean[f]) / std[f] : 0)));
  const gold = Uint8Array.from(questions.flatMap((q) => q.gold.map(Number)));
  const offsets = [0];
  for (const q of questions) offsets.push(offsets[offsets.length - 1] + q.features.length);
  // Parameter n is the bias.
  const w = new Float64Array(n + 1);
  const m = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const s = new Float64Array(rows.length);
  const residual = new Float64Array(rows.length);
  const rate = 0.05;
  for (let step = 1; step <= 1500; step++) {
    for (let k = 0; k < rows.length; k++) {
      let score = w[n];
      for (let f = 0; f < n; f++) score += w[f] * x[k * n + f];
      s[k] = score;
    }
    for (let q = 0; q < questions.length; q++) {
      const [first, last] = [offsets[q], offsets[q + 1]];
      if (values.pointwise) {
        for (let k = first; k < last; k++) residual[k] = 1 / (1 + Math.exp(-s[k])) - gold[k];
        continue;
      }
      // Softmax over the sentences and "none" (score 0); the right choice is any gold sentence, or "none" without one.
      let top = 0;
      for (let k = first; k < last; k++) top = Math.max(top, s[k]);
      let total = Math.exp(-top);
      let goldMass = 0;
      for (let k = first; k < last; k++) {
        const e = Math.exp(s[k] - top);
        total += e;
        if (gold[k]) goldMass += e;
      }
      // d(−log P(right))/ds_k = p_k − [k gold] · e_k / goldMass.
      for (let k = first; k < last; k++) {
        const e = Math.exp(s[k] - top);
        residual[k] = e / total - (gold[k] ? e / goldMass : 0);
      }
    }
    const grad = new Float64Array(n + 1);
    for (let k = 0; k < rows.length; k++) {
      for (let f = 0; f < n; f++) grad[f] += (residual[k] * x[k * n + f]) / questions.length;
      grad[n] += residual[k] / questions.length;
    }
    for (let f = 0; f <= n; f++) {
      const g = grad[f] + (f < n ? l2 * w[f] : 0);
      m[f] = 0.9 * m[f] + 0.1 * g;
      v[f] = 0.999 * v[f] + 0.001 * g * g;
      w[f] -= (rate * (m[f] / (1 - 0.9 ** step))) / (Math.sqrt(v[f] / (1 - 0.999 ** step)) + 1e-8);
    }
  }
  const weights = Array.from({ length: n }, (_, f) => (std[f] ? w[f] / std[f] : 0));
  const bias = w[n] - weights.reduce((sum, weight, f) => sum + weight * mean[f], 0);
  return { weights: weights.map(round), bias: round(bias) };
}

const round = (x: number) => Number(x.toPrecision(6));
// The candidates were featured once: this is the reader's work after `candidatesOf`.
const answerAll = (model: RankerModel, indexes: number[]) =>
  indexes.map((i) => ({ ...outcomes[i], answer: answerFrom(readCandidates(examples[i].question, examples[i].candidates, sentencesToRead(style), model), style) }));

const SUPPORTS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const ABSTAINS = [0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
const COVERAGES = [0, 0.1, 0.2, 0.3];

/**
 * The thresholds for fitted weights, on the questions given: the evidence share that maximises
 * whole + first-sentence EM among those averaging ≤ --max-words; then the abstention floors (the
 * ranker's P and the best sentence's coverage) that maximise right decisions, a decline counting
 * as right when the answer would have missed.
 */
function thresholds(base: Pick<RankerModel, 'weights' | 'bias'>, indexes: number[]): RankerModel {
  const model = (support: number, abstain: number, minCoverage = 0): RankerModel => ({ features: [...FEATURES], ...base, support, abstain, min_coverage: minCoverage });
  let support = SUPPORTS[0];
  let bestObjective = -Infinity;
  for (const candidate of SUPPORTS) {
    const scores = answerAll(model(candidate, 0), indexes).map(scoreAnswer);
    const words = scores.reduce((sum, s) => sum + s.words, 0) / scores.length;
    const objective = words > maxWords ? -Infinity : scores.reduce((sum, s) => sum + s.em + s.emFirstSentence, 0);
    if (objective > bestObjective) [support, bestObjective] = [candidate, objective];
  }
  const wouldHit = answerAll(model(support, 0), indexes).map((o) => scoreAnswer(o).em === 1);
  let chosen = model(support, 0);
  let bestRight = -Infinity;
  for (const abstain of ABSTAINS) {
    for (const minCoverage of COVERAGES) {
      const declined = answerAll(model(support, abstain, minCoverage), indexes).map((o) => scoreAnswer(o).abstained);
      const right = declined.reduce((sum, d, k) => sum + (d ? (wouldHit[k] ? 0 : 1) : wouldHit[k] ? 1 : 0), 0);
      if (right > bestRight) [chosen, bestRight] = [model(support, abstain, minCoverage), right];
    }
  }
  return chosen;
}

const all = outcomes.map((_, i) => i);
/** The rank of the first gold sentence under a model (0 = first), or -1 when none holds the answer. */
function goldRanks(model: RankerModel, indexes: number[]): number[] {
  return indexes.map((i) => {
    const ex = examples[i];
    const scores = ex.features.map((x) => x.reduce((sum, value, f) => sum + model.weights[f] * value, model.bias));
    const order = scores.map((s, k) => [s, k] as const).sort((a, b) => b[0] - a[0]);
    return order.findIndex(([, k]) => ex.gold[k]);
  });
}
const ABSTENTION_CURVE = [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];

function crossValidate() {
  const heldOut: AnswerOutcome[] = [];
  const ranks: number[] = [];
  const chosen: Array<Pick<RankerModel, 'support' | 'abstain' | 'min_coverage'>> = [];
  // Per abstention floor, the held-out answers with each fold's model at that floor: its trade-off, unseen.
  const curve = ABSTENTION_CURVE.map(() => [] as AnswerOutcome[]);
  for (let fold = 0; fold < folds; fold++) {
    const train = all.filter((i) => i % folds !== fold);
    const test = all.filter((i) => i % folds === fold);
    const model = thresholds(
      fit(
        train.map((i) => examples[i]),
        mask,
      ),
      train,
    );
    chosen.push({ support: model.support, abstain: model.abstain, min_coverage: model.min_coverage });
    heldOut.push(...answerAll(model, test));
    ranks.push(...goldRanks(model, test));
    ABSTENTION_CURVE.forEach((abstain, k) => curve[k].push(...answerAll({ ...model, abstain, min_coverage: 0 }, test)));
  }
  const summary = summarizeAnswers(heldOut);
  const count = (pick: (r: number) => boolean) => ranks.filter(pick).length;
  return {
    best_subspan_em: summary.best_subspan_em,
    answer_words: summary.answer_words,
    abstention: summary.abstention,
    gold_sentence_rank: { first: count((r) => r === 0), second: count((r) => r === 1), third_to_fifth: count((r) => r >= 2 && r <= 4), lower: count((r) => r > 4), none: count((r) => r < 0) },
    chosen_per_fold: chosen,
    abstention_curve: ABSTENTION_CURVE.map((abstain, k) => {
      const s = summarizeAnswers(curve[k]);
      return { abstain, em: s.best_subspan_em.answer, em_first_sentence: s.best_subspan_em.first_sentence, ...s.abstention };
    }),
  };
}

const report: Record<string, unknown> = { questions: outcomes.length, folds, max_words: maxWords, style, l2, pointwise: values.pointwise, without: values.without };
report.cross_validated = crossValidate();
if (values.write) {
  const path = new URL('../src/models/reader/ranker-weights.json', import.meta.url);
  writeFileSync(path, JSON.stringify(thresholds(fit(examples, mask), all), null, 1) + '\n');
  report.written = path.pathname;
}
console.log(JSON.stringify(report, null, 1));
