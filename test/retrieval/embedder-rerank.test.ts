import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmbedderReranker } from '../../src/models/backends/embedder-rerank.js';
import { splitSentences } from '../../src/core/text/sentences.js';
import type { CallOptions } from '../../src/models/types.js';
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

test('the query is embedded as a query and the sentences as passages, each kind cached apart', async () => {
  // An embedder with prompts (onnx bge/e5) embeds a query and the same text as a passage differently.
  class KindRecorder extends HashEmbedder {
    readonly seen: Array<{ text: string; input: CallOptions['input'] }> = [];
    override embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
      for (const text of texts) this.seen.push({ text, input: options.input });
      return super.embed(texts, options);
    }
  }
  const embedder = new KindRecorder();
  const reranker = new EmbedderReranker('embedder-rerank', embedder, { sentencesPerDocument: 1 });
  await reranker.rerank('protein folding', ['protein folding'], { signal });
  assert.deepEqual(
    embedder.seen.sort((a, b) => String(a.input).localeCompare(String(b.input))),
    [
      { text: 'protein folding', input: 'passage' },
      { text: 'protein folding', input: 'query' },
    ],
  );
  embedder.seen.length = 0;
  await reranker.rerank('protein folding', ['protein folding'], { signal });
  assert.deepEqual(embedder.seen, [], 'both vectors come from the cache the second time');
});
