import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmbedderReranker } from '../../src/models/backends/embedder-rerank.js';
import { splitSentences } from '../../src/core/text/sentences.js';
import { HashEmbedder, signal } from './helpers.js';

test('sentences split at sentence ends and lines, short fragments join their neighbour', () => {
  assert.deepEqual(splitSentences('Title line\nFirst sentence is here. Second one follows now! (Third) starts with a bracket.'), [
    'Title line',
    'First sentence is here.',
    'Second one follows now!',
    '(Third) starts with a bracket.',
  ]);
  assert.deepEqual(splitSentences('e.g. this stays one sentence. Ok.'), ['e.g. this stays one sentence. Ok.']);
});

test('a passage with one sentence that answers the query outranks diffuse passages', async () => {
  const embedder = new HashEmbedder(256);
  const reranker = new EmbedderReranker('embedder-rerank', embedder, { rankWeight: 0, sentencesPerDocument: 3 });
  const docs = [
    'Cooking pasta needs salted water. Tomatoes grow in summer. Bread rises with yeast in a warm kitchen.',
    'Many topics appear here. Vitamin D deficiency raises fracture risk in older adults. Weather was mild.',
    'Fracture healing and bone density and vitamin intake and older people and sunlight and diet and tea.',
  ];
  const scores = await reranker.rerank('vitamin D deficiency fracture risk', docs, { signal });
  assert.equal(scores.length, 3);
  assert.equal(scores.indexOf(Math.max(...scores)), 1);
  const calls = embedder.calls;
  await reranker.rerank('vitamin D deficiency fracture risk', docs, { signal });
  assert.equal(embedder.calls, calls, 'sentence vectors are cached between calls');
  assert.deepEqual(await reranker.rerank('q', [], { signal }), []);
});

test('the reranker stops on an aborted signal', async () => {
  const controller = new AbortController();
  controller.abort(new Error('deadline'));
  const reranker = new EmbedderReranker('embedder-rerank', new HashEmbedder());
  await assert.rejects(reranker.rerank('q', ['a doc'], { signal: controller.signal }), /deadline/);
});

test('the fused rank breaks ties: the same passage scores higher when it came first', async () => {
  const reranker = new EmbedderReranker('embedder-rerank', new HashEmbedder(), { rankWeight: 1, rankK: 5 });
  const doc = 'Title\nA sentence about proteins and cells.';
  const [first, second] = await reranker.rerank('proteins', [doc, doc], { signal });
  assert.ok(Math.abs(first - second - (1 / 6 - 1 / 7)) < 1e-9);
});
