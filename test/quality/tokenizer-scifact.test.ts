import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { sharedPath } from '../models/helpers.js';
import { tokenizers } from '../support/tokenizers.js';

const scifact = sharedPath('data/scifact');

// The package's tokenizer is quadratic in text length: the whole of SciFact takes minutes with it,
// so this runs in `npm run test:quality`, not in `npm test`.
test('the linear tokenizer gives the package tokenizer’s ids on every SciFact title, abstract and query', { skip: scifact ? false : '../shared/data/scifact is absent' }, async () => {
  const { reference, ours } = await tokenizers();
  const lines = (file: string) => readFileSync(`${scifact}/${file}`, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { title?: string; text: string });
  let texts = 0;
  for (const record of [...lines('corpus.jsonl'), ...lines('queries.jsonl')]) {
    for (const text of [record.title ?? '', record.text]) {
      assert.deepEqual(ours.encode(text), reference.encode(text), text.slice(0, 80));
      texts++;
    }
  }
  assert.ok(texts > 10_000);
});
