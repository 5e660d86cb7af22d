import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dot } from '../../src/core/vectors.js';
import { modelConfig, never, sharedPath, startRuntime } from './helpers.js';

const glove = sharedPath('models/glove-sif-100d');
const skip = glove ? false : 'needs ../shared/models/glove-sif-100d (absent)';

test('onnx embedder: a local transformers.js model dir, mean-pooled and normalised', { skip }, async () => {
  const { runtime } = await startRuntime([
    modelConfig({ name: 'glove', role: 'embedder', backend: 'onnx', options: { model: glove!, dtype: 'fp32' }, warmup: { batch_sizes: [1, 8] } }),
  ]);
  try {
    const embedder = runtime.embedder('glove');
    assert.equal(embedder.dimensions, 100);
    const [cat, kitten, market] = await embedder.embed(['the cat sleeps on the sofa', 'a kitten naps on the couch', 'stock market prices fell sharply'], {
      signal: never(),
    });
    assert.ok(Math.abs(dot(cat, cat) - 1) < 1e-4, 'unit length');
    assert.ok(dot(cat, kitten) > dot(cat, market), 'related sentences are closer than unrelated ones');
  } finally {
    await runtime.close();
  }
});

test('onnx reranker refuses at start a model that is not a cross-encoder', { skip }, async () => {
  await assert.rejects(
    startRuntime([modelConfig({ name: 'not-a-cross-encoder', role: 'reranker', backend: 'onnx', options: { model: glove! }, warmup: { batch_sizes: [] } })]),
    /not a cross-encoder/,
  );
});

test('a hub id is never downloaded unless allow_remote is set', async () => {
  await assert.rejects(
    startRuntime([
      modelConfig({ name: 'remote', role: 'embedder', backend: 'onnx', options: { model: 'Xenova/surely-not-cached-model' }, warmup: { batch_sizes: [] } }),
    ]),
  );
});
