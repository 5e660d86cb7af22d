import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ANSWER } from '../../src/config/answer.js';
import { passagesForModel, renderPrompt } from '../../src/models/prompt.js';

const contexts = [
  { id: 'a', text: 'The Seine flows through Paris.' },
  { id: 'b', text: 'Apollo 11 landed on the Moon in July 1969.', title: 'Apollo 11' },
  { id: 'c', text: 'The Moon orbits the Earth.' },
];
const ask = (content: string, modelContexts = 5) => ({ messages: [{ role: 'user' as const, content }], contexts, answer: { ...DEFAULT_ANSWER, model_contexts: modelContexts } });

test('a model reads the best passages first, each keeping the number the client sees', () => {
  const passages = passagesForModel(ask('When did Apollo 11 land on the Moon?'));
  assert.equal(passages[0], '[2] Apollo 11: Apollo 11 landed on the Moon in July 1969.');
  assert.deepEqual(passagesForModel(ask('When did Apollo 11 land on the Moon?', 2)).length, 2, 'answer.model_contexts caps them');
});

test('the prompt template is filled in one pass: a question that names a slot stays as written', () => {
  assert.equal(renderPrompt('P:\n{passages}\nQ: {question}', ['[1] x', '[2] $&y'], 'what is {passages}?'), 'P:\n[1] x\n[2] $&y\nQ: what is {passages}?');
});
