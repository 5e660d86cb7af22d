import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ExtractiveGenerator, NO_CONTEXT_ANSWER, composeAnswer } from '../../src/models/backends/extractive.js';
import { collect, never } from './helpers.js';

const contexts = [
  { id: 'd1', text: 'Paris is the capital of France. The Seine flows through the city.' },
  { id: 'd2', text: 'Tokyo is large. The capital of Japan is Tokyo, and it hosts the Diet.' },
];
const ask = (content: string) => ({ messages: [{ role: 'user' as const, content }], contexts, maxTokens: 200 });

test('answers with the best matching sentences, in reading order, with citations', () => {
  const answer = composeAnswer(ask('What is the capital of Japan?'), 3);
  assert.match(answer, /The capital of Japan is Tokyo, and it hosts the Diet\. \[2\]/);
  assert.doesNotMatch(answer, /Seine/);
});

test('says plainly that it has no documents when there are none', () => {
  assert.equal(composeAnswer({ messages: [{ role: 'user', content: 'Anything?' }], contexts: [] }, 3), NO_CONTEXT_ANSWER);
});

test('admits when no sentence matches, quoting the first passage', () => {
  assert.match(composeAnswer(ask('zebra migration patterns'), 3), /^None of the documents answers this directly.*\[1\]$/);
});

const generator = new ExtractiveGenerator('extractive', { max_sentences: 3, token_delay_ms: 0 });

test('streams word pieces that join into the answer, honouring maxTokens and counting usage', async () => {
  const request = ask('Which river flows through Paris?');
  const pieces = await collect(generator.generate(request, { signal: never() }));
  assert.equal(pieces.join(''), composeAnswer(request, 3));
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
