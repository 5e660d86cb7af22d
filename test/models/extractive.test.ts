import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DEFAULT_ANSWER } from '../../src/config/answer.js';
import { ExtractiveGenerator, NO_CONTEXT_ANSWER, composeAnswer, isAbstention } from '../../src/models/backends/extractive.js';
import { collect, never } from './helpers.js';

const contexts = [
  { id: 'd1', text: 'Paris is the capital of France. The Seine flows through the city.' },
  { id: 'd2', text: 'Tokyo is large. The capital of Japan is Tokyo, and it hosts the Diet.' },
];
const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }], contexts, maxTokens: 200 });
const style = { max_sentences: 3, concise: false };

test('answers with the best sentence first, cited, without the loosely related ones', () => {
  const answer = composeAnswer(ask('What is the capital of Japan?'), style);
  assert.equal(answer, 'The capital of Japan is Tokyo, and it hosts the Diet. [2]');
});

test('concise: the span, then the one sentence it comes from', () => {
  const dated = [{ id: 'd1', title: 'Apollo 11', text: 'Apollo 11 was a spaceflight. It landed on the Moon on July 20, 1969. Neil Armstrong walked on it first.' }];
  const question = { messages: [{ role: 'user' as const, content: 'When did Apollo 11 land on the Moon?' }], contexts: dated };
  assert.equal(composeAnswer(question, { max_sentences: 3, concise: true }), 'July 20, 1969: It landed on the Moon on July 20, 1969. [1]');
});

test('says plainly that it has no documents when there are none', () => {
  const answer = composeAnswer({ messages: [{ role: 'user', content: 'Anything?' }], contexts: [] }, style);
  assert.equal(answer, NO_CONTEXT_ANSWER);
  assert.equal(isAbstention(answer), true);
});

test('declines when no passage covers the question, quoting the closest sentence', () => {
  const answer = composeAnswer(ask('zebra migration patterns'), style);
  assert.match(answer, /^None of the documents answers this directly.*\[\d\]$/);
  assert.equal(isAbstention(answer), true);
  assert.equal(isAbstention(composeAnswer(ask('What is the capital of Japan?'), style)), false);
});

const generator = new ExtractiveGenerator('extractive', { token_delay_ms: 0 });

test('streams word pieces that join into the answer, honouring maxTokens and counting usage', async () => {
  const request = ask('Which river flows through Paris?');
  const pieces = await collect(generator.generate(request, { signal: never() }));
  assert.equal(pieces.join(''), composeAnswer(request, DEFAULT_ANSWER));
  assert.ok(pieces.length > 3 && pieces.slice(1).every((p) => p.startsWith(' ')));
  const short = generator.generate({ ...request, maxTokens: 2 }, { signal: never() });
  assert.equal((await collect(short)).length, 2);
  assert.deepEqual(short.usage().completion_tokens, 2);
  assert.ok(short.usage().prompt_tokens > 10);
});

test('yields to the event loop between tokens, so a client sees the first token early', async () => {
  const stream = generator.generate(ask('What is the capital of France?'), { signal: never() })[Symbol.asyncIterator]();
  await stream.next();
  let turned = false;
  setImmediate(() => (turned = true));
  await stream.next();
  assert.equal(turned, true, 'an immediate queued after the first token ran before the second');
  await nextTurn();
});

test('stops at once when the signal aborts', async () => {
  const controller = new AbortController();
  const stream = generator.generate(ask('What is the capital of France?'), { signal: controller.signal });
  const pieces: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const piece of stream) {
        pieces.push(piece);
        if (pieces.length === 2) controller.abort(new Error('client left'));
      }
    })(),
    /client left/,
  );
  assert.equal(pieces.length, 2);
});
