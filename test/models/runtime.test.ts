import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { createModelRuntime } from '../../src/models/create-runtime.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { collect, metric, modelConfig, never, startRuntime } from './helpers.js';

const simEmbedder = modelConfig({ name: 'sim-embed', role: 'embedder', backend: 'sim', options: { base_ms: 0, per_item_ms: 0, dimensions: 8 } });
const extractive = modelConfig({ name: 'extractive', role: 'generator', backend: 'extractive' });

test('start() loads and warms every model, then serves them by name and role', async () => {
  const { runtime, metrics } = await startRuntime([simEmbedder, extractive]);
  try {
    assert.equal(runtime.ready, true);
    assert.deepEqual(runtime.list().map((m) => m.name), ['sim-embed', 'extractive']);
    assert.equal(await metric(metrics, 'pronto_model_ready', { model: 'sim-embed' }), 1);
    const vectors = await runtime.embedder('sim-embed').embed(['a', 'b'], { signal: never() });
    assert.equal(vectors.length, 2);
    assert.equal(runtime.embedder('sim-embed').dimensions, 8);
    const answer = await collect(
      runtime.generator('extractive').generate({ messages: [{ role: 'user', content: 'hi' }], contexts: [], maxTokens: 50 }, { signal: never() }),
    );
    assert.match(answer.join(''), /no documents/);
    assert.ok((await metric(metrics, 'pronto_model_batch_size', { model: 'sim-embed' })) >= 0);
  } finally {
    await runtime.close();
  }
});

test('an unknown name or the wrong role is unknown_model on field model', async () => {
  const { runtime } = await startRuntime([simEmbedder, extractive]);
  try {
    for (const call of [() => runtime.embedder('nope'), () => runtime.embedder('extractive'), () => runtime.generator('sim-embed'), () => runtime.reranker('sim-embed')]) {
      assert.throws(call, (err: { code?: string; field?: string; status?: number }) => err.code === 'unknown_model' && err.field === 'model' && err.status === 404);
    }
  } finally {
    await runtime.close();
  }
});

test('calls before start() are refused as not_ready; bad configs fail at build time', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const logger = pino({ level: 'silent' });
  const runtime = createModelRuntime({ models: [simEmbedder] }, { metrics, logger });
  assert.equal(runtime.ready, false);
  await assert.rejects(runtime.embedder('sim-embed').embed(['a'], { signal: never() }), (err: { code?: string }) => err.code === 'not_ready');
  const loop = [
    modelConfig({ name: 'a', role: 'embedder', backend: 'sim', fallback: 'b' }),
    modelConfig({ name: 'b', role: 'embedder', backend: 'sim', fallback: 'a' }),
  ];
  assert.throws(() => createModelRuntime({ models: loop }, { metrics, logger }), /loops back/);
  const wrongRole = [modelConfig({ name: 'a', role: 'embedder', backend: 'sim', fallback: 'extractive' }), extractive];
  assert.throws(() => createModelRuntime({ models: wrongRole }, { metrics, logger }), /is a generator/);
});
