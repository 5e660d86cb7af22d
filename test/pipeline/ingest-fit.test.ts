import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deadline } from '../../src/core/deadline.js';
import { isProntoError } from '../../src/core/errors.js';
import type { Embedder } from '../../src/models/types.js';
import { refuseWorkPastDeadline } from '../../src/pipeline/flows/ingest-fit.js';

/** An embedder whose measured cost is 50 ms a batch plus 0.1 ms a character. */
const embedder = { name: 'priced', workMs: (_items: number, chars: number) => 50 + chars * 0.1 } as unknown as Embedder;

function refusal(chars: number, budgetMs: number) {
  const deadline = new Deadline(budgetMs);
  try {
    refuseWorkPastDeadline([{ id: 'd', text: 'x'.repeat(chars) }], embedder, deadline);
    return undefined;
  } catch (err) {
    assert.ok(isProntoError(err) && err.code === 'too_large_for_deadline', String(err));
    return { message: err.message, maxChars: (err.details as { max_chars: number }).max_chars };
  } finally {
    deadline.dispose();
  }
}

test('what fits is what the time left after the fixed cost pays for', () => {
  const refused = refusal(20_000, 1000); // 2,050 ms of work against 1,000 ms
  assert.ok(refused);
  // (1000 - 50) ms at 0.1 ms a character, give or take the milliseconds the test itself took.
  assert.ok(refused.maxChars > 9000 && refused.maxChars <= 9500, String(refused.maxChars));
  assert.match(refused.message, /~2\.0 s of work/);
  assert.match(refused.message, /about \d+ characters fit/);
});

test('a deadline shorter than the fixed cost says no document fits, in milliseconds', () => {
  const refused = refusal(10, 20);
  assert.ok(refused);
  assert.equal(refused.maxChars, 0);
  assert.match(refused.message, /No document fits in a deadline this short: allow at least ~50 ms/);
  assert.match(refused.message, /more than the \d+ ms left/);
  assert.doesNotMatch(refused.message, /0\.0 s/);
});

test('work that fits is let through', () => assert.equal(refusal(1000, 5000), undefined));
