import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_CONTEXT_ANSWER } from '../../src/models/backends/extractive.js';
import { scoreAnswer, summarizeAnswers, type AnswerOutcome } from '../../src/pipeline/eval/evaluate-answers.js';

const outcome = (answer: string, contexts: string[], extra: Partial<AnswerOutcome> = {}): AnswerOutcome => ({
  question: 'when did apollo 11 land',
  answers: ['1969', 'July 20, 1969'],
  answer,
  contexts: contexts.map((text, i) => ({ doc_id: `d${i}`, text })),
  goldIds: ['d0'],
  latencyMs: 10,
  answerStageMs: 1,
  readerCpuMs: 0.5,
  ...extra,
});

test('scores the whole answer and its first sentence, and whether the contexts held the gold passage and answer', () => {
  const scores = scoreAnswer(outcome('Apollo 11 flew in July. [1] It landed in 1969. [1]', ['It landed in 1969.']));
  assert.deepEqual(scores, { em: 1, emFirstSentence: 0, goldInContexts: true, answerInContexts: true, abstained: false, words: 9 });
  const unanswerable = scoreAnswer(outcome(NO_CONTEXT_ANSWER, [], {}));
  assert.equal(unanswerable.abstained, true);
  assert.equal(unanswerable.goldInContexts, false);
  assert.equal(unanswerable.answerInContexts, false);
});

test('summarises percentages, abstention split by whether the answer was in the contexts, length and latency', () => {
  const report = summarizeAnswers([
    outcome('It landed in 1969. [1]', ['It landed in 1969.']),
    outcome('It landed in 1970. [1]', ['Apollo 11 landed on the Moon.'], { goldIds: ['x'] }),
    outcome(NO_CONTEXT_ANSWER, []),
    outcome('The Moon is far. [1]', ['It landed in 1969.'], { latencyMs: 30 }),
  ]);
  assert.deepEqual(report.best_subspan_em, { answer: 25, first_sentence: 25 });
  assert.equal(report.gold_in_contexts, 50);
  assert.equal(report.answer_in_contexts, 50);
  assert.deepEqual(report.abstention, { rate: 25, when_not_in_contexts: 50, wrong_when_not_in_contexts: 50, when_in_contexts: 0 });
  assert.equal(report.questions, 4);
  assert.equal(report.latency_ms.p95, 30);
});
