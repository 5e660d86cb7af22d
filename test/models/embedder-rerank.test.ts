import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelConfig, never, startRuntime } from './helpers.js';

test('embedder-rerank loads after its embedder and reranks through it', async () => {
  const { runtime, metrics } = await startRuntime([
    modelConfig({ name: 'rerank', role: 'reranker', backend: 'embedder-rerank', options: { embedder: 'sim' }, warmup: { batch_sizes: [2] } }),
    modelConfig({ name: 'sim', role: 'embedder', backend: 'sim', options: { base_ms: 0, per_item_ms: 0 }, warmup: { batch_sizes: [] } }),
  ]);
  try {
    const scores = await runtime.reranker('rerank').rerank('exact words', ['exact words', 'something else entirely'], { signal: never() });
    assert.equal(scores.length, 2);
    assert.ok(scores[0] > scores[1], 'the identical passage scores highest');
    const batches = (await metrics.registry.getSingleMetricAsString('pronto_model_batch_size')).match(/pronto_model_batch_size_count\{model="sim"\} (\d+)/);
    assert.ok(Number(batches?.[1]) > 0, 'embeddings went through the sim model batcher');
  } finally {
    await runtime.close();
  }
});

test('embedder-rerank refuses a non-embedder', async () => {
  await assert.rejects(
    startRuntime([
      modelConfig({ name: 'rerank', role: 'reranker', backend: 'embedder-rerank', options: { embedder: 'extractive' }, warmup: { batch_sizes: [] } }),
      modelConfig({ name: 'extractive', role: 'generator', backend: 'extractive' }),
    ]),
    /not an embedder/,
  );
});
