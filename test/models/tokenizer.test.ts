import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { tokenizers } from '../support/tokenizers.js';

test('the linear tokenizer gives the package tokenizer’s ids on edge cases', async () => {
  const { reference, ours } = await tokenizers();
  const cases = ['', ' ', 'Hello world', '  two  spaces ', 'naïve café ＡＢＣ ﬁ', 'emoji 😀😀 and 日本語', 'tabs\tand\nnewlines', '????!!', 'x'.repeat(300)];
  for (const text of cases) assert.deepEqual(ours.encode(text), reference.encode(text), JSON.stringify(text));
});

test('the linear tokenizer gives the package tokenizer’s ids on the whole sample corpus', async () => {
  const { reference, ours } = await tokenizers();
  const dir = new URL('../../sample-corpus/', import.meta.url);
  const files = readdirSync(dir);
  assert.ok(files.length > 0);
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    for (const piece of [text, ...text.split(/\n+/)]) assert.deepEqual(ours.encode(piece), reference.encode(piece), `${file}: ${piece.slice(0, 60)}`);
  }
});
