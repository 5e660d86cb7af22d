import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dot } from '../../src/core/vectors.js';
import { modelConfig, never, sharedPath, startRuntime } from './helpers.js';
import { isInstalled, OPTIONAL_PACKAGES } from '../../src/models/optional-package.js';
import { writeTinyCrossEncoder } from './tiny-cross-encoder.js';

const glove = sharedPath('models/glove-sif-100d');
const skip = !glove
  ? 'needs ../shared/models/glove-sif-100d (absent)'
  : !(await isInstalled('@huggingface/transformers'))
    ? `needs @huggingface/transformers (an optional dependency): ${OPTIONAL_PACKAGES['@huggingface/transformers'].install}`
    : false;

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

test('a backend whose library is missing fails at start with the npm install line', async () => {
  const { importOptional } = await import('../../src/models/optional-package.js');
  const missing = Object.assign(new Error("Cannot find package '@huggingface/transformers' imported from onnx.ts"), { code: 'ERR_MODULE_NOT_FOUND' });
  await assert.rejects(
    importOptional('@huggingface/transformers', () => Promise.reject(missing)),
    /the onnx backend needs @huggingface\/transformers, which is not installed: run `npm install @huggingface\/transformers@4\.3\.2`/,
  );
  const other = new Error('some other failure');
  await assert.rejects(importOptional('@huggingface/transformers', () => Promise.reject(other)), /some other failure/);
});

test('onnx embedder: a sentence-transformers directory sets pooling and normalisation (1_Pooling/config.json, modules.json)', { skip }, async () => {
  // glove-sif-100d with the files sentence-transformers writes: CLS pooling (as bge does), no Normalize module.
  const dir = mkdtempSync(join(tmpdir(), 'pronto-st-'));
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) symlinkSync(join(glove!, file), join(dir, file));
  symlinkSync(join(glove!, 'onnx'), join(dir, 'onnx'));
  mkdirSync(join(dir, '1_Pooling'));
  writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 100, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false }));
  writeFileSync(join(dir, 'modules.json'), JSON.stringify([{ idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' }, { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' }]));
  const { runtime } = await startRuntime([
    modelConfig({ name: 'st', role: 'embedder', backend: 'onnx', options: { model: dir }, warmup: { batch_sizes: [] } }),
    modelConfig({ name: 'st-mean', role: 'embedder', backend: 'onnx', options: { model: dir, pooling: 'mean', normalize: true }, warmup: { batch_sizes: [] } }),
  ]);
  try {
    // The model has no attention layers and the tokenizer adds no [CLS]: CLS pooling is the first word's vector.
    const [cat, catMarket] = await runtime.embedder('st').embed(['cat sleeps on the sofa', 'cat market prices'], { signal: never() });
    assert.deepEqual(cat, catMarket, 'CLS pooling from 1_Pooling/config.json');
    assert.ok(Math.abs(dot(cat, cat) - 1) > 1e-3, 'no Normalize module in modules.json: vectors as pooled');
    // Options set in the config win over the directory's files.
    const [meanCat, meanMarket] = await runtime.embedder('st-mean').embed(['cat sleeps on the sofa', 'cat market prices'], { signal: never() });
    assert.notDeepEqual(meanCat, meanMarket);
    assert.ok(Math.abs(dot(meanCat, meanCat) - 1) < 1e-4);
  } finally {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('onnx reranker: a cross-encoder directory scores query/document pairs through the runtime', { skip }, async () => {
  // A generated cross-encoder-shaped model: its logit is the sum of per-token weights over the pair.
  const dir = mkdtempSync(join(tmpdir(), 'pronto-cross-'));
  writeTinyCrossEncoder(dir, glove!, { otters: 2, rivers: 1, stock: -3 });
  const { runtime } = await startRuntime([
    modelConfig({ name: 'cross', role: 'reranker', backend: 'onnx', options: { model: dir }, warmup: { batch_sizes: [1] } }),
  ]);
  try {
    const documents = ['otters live along rivers', 'rivers flow to the sea', 'stock prices of otters fell', 'a page about nothing'];
    const scores = await runtime.reranker('cross').rerank('where do otters live', documents, { signal: never() });
    // sigmoid(query 2 + document's own weights): 2+2+1, 2+1, 2+2-3, 2.
    const expected = [5, 3, 1, 2].map((logit) => 1 / (1 + Math.exp(-logit)));
    scores.forEach((score, i) => assert.ok(Math.abs(score - expected[i]) < 1e-5, `${documents[i]}: ${score} vs ${expected[i]}`));
  } finally {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
