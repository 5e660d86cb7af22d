import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerWords, bestSubspanEm, firstSentence, normalizeAnswer } from '../../src/pipeline/eval/answer-metrics.js';

test('normalises SQuAD-style: lowercase, ASCII punctuation removed, articles dropped, spaces squeezed', () => {
  assert.equal(normalizeAnswer('The  Beatles, a band!'), 'beatles band');
  assert.equal(normalizeAnswer("Rock 'n' Roll"), 'rock n roll');
  // Punctuation is deleted, not replaced by a space, as in the reference implementation.
  assert.equal(normalizeAnswer('U.S. 1,000'), 'us 1000');
  // Only Python's string.punctuation goes: an en dash stays.
  assert.equal(normalizeAnswer('1939–1945'), '1939–1945');
  // Articles are whole words only, Unicode-aware like Python's \b.
  assert.equal(normalizeAnswer('Anthem of théa'), 'anthem of théa');
  assert.equal(normalizeAnswer('Théa an'), 'théa');
});

test('best_subspan_em is 1 when any normalised gold answer is inside the normalised prediction', () => {
  assert.equal(bestSubspanEm('It was written by Cyrus the Great. [1]', ['Cyrus']), 1);
  assert.equal(bestSubspanEm('In the year 1,969.', ['1969', 'nineteen sixty-nine']), 1);
  assert.equal(bestSubspanEm('The Beatles played.', ['the beatles']), 1);
  assert.equal(bestSubspanEm('It was written by Darius.', ['Cyrus']), 0);
  // A substring, not a token match: "Cyrus" is found inside "Cyruses" (as in the literature).
  assert.equal(bestSubspanEm('the Cyruses', ['Cyrus']), 1);
  assert.equal(bestSubspanEm('anything', []), 0);
});

test('the first sentence ends at the citations that close it, or at the first sentence end', () => {
  assert.equal(firstSentence('Apollo 11 landed in 1969. [2] It carried three men. [1]'), 'Apollo 11 landed in 1969. [2]');
  assert.equal(firstSentence('It was 1969. [2][3] More.'), 'It was 1969. [2][3]');
  assert.equal(firstSentence('Cyrus [1] wrote it. Then 1969 came [2].'), 'Cyrus [1] wrote it.');
  assert.equal(firstSentence('No end here'), 'No end here');
  assert.equal(firstSentence('Born in the U.S. in 1950. Later 1969.'), 'Born in the U.S. in 1950.');
});

test('answer length counts words, not citations', () => {
  assert.equal(answerWords('Apollo 11 landed in 1969. [2] It flew. [1]'), 7);
});
