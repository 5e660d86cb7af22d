import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FallbackEvent } from '../../src/models/types.js';
import { collect, metric, modelConfig, never, startRuntime } from './helpers.js';

const sim = (name: string, options: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  modelConfig({ name, role: 'embedder', backend: 'sim', options: { dimensions: 4, per_item_ms: 0, ...options }, warmup: { batch_sizes: [] }, ...extra });

test('a failing primary falls back along the chain, reporting each hop', async () => {
  const { runtime, metrics } = await startRuntime([
    sim('primary', { fail: true }, { fallback: 'secondary' }),
    sim('secondary', { fail: true }, { fallback: 'last' }),
    sim('last', { base_ms: 0 }),
  ]);
  try {
    const events: FallbackEvent[] = [];
    const vectors = await runtime.embedder('primary').embed(['x'], { signal: never(), onFallback: (e) => events.push(e) });
    assert.equal(vectors.length, 1);
    assert.deepEqual(events, [
      { from: 'primary', to: 'secondary', reason: 'error' },
      { from: 'secondary', to: 'last', reason: 'error' },
    ]);
    assert.equal(await metric(metrics, 'pronto_model_calls_total', { model: 'primary', outcome: 'fallback' }), 1);
  } finally {
    await runtime.close();
  }
});

test('admission rejections fall back as overloaded / too_slow', async () => {
  // 'busy' costs 400 ms a batch and 'hurry' has 200 ms: too slow for busy, while the idle spare
  // still fits when a loaded machine delays the call by tens of milliseconds.
  const { runtime } = await startRuntime([
    sim('busy', { base_ms: 400 }, { fallback: 'spare', batching: { max_batch_size: 1, max_queue_items: 1 } }),
    sim('spare', { base_ms: 0 }),
  ]);
  const busy = runtime.embedder('busy');
  try {
    await busy.embed(['observe'], { signal: never() });
    const running = busy.embed(['running'], { signal: never() });
    await new Promise((resolve) => setImmediate(resolve));
    const queued = busy.embed(['queued'], { signal: never() });
    const events: FallbackEvent[] = [];
    const onFallback = (e: FallbackEvent) => events.push(e);
    await busy.embed(['full'], { signal: never(), onFallback });
    await Promise.all([running, queued]);
    const again = busy.embed(['running again'], { signal: never() });
    await new Promise((resolve) => setImmediate(resolve));
    await busy.embed(['hurry'], { signal: never(), onFallback, deadlineAt: performance.now() + 200 });
    assert.deepEqual(events.map((e) => e.reason), ['overloaded', 'too_slow']);
    await again;
  } finally {
    await runtime.close();
  }
});

test('no fallback once the request itself aborted; the error without a chain is the primary one', async () => {
  const { runtime } = await startRuntime([sim('slow', { base_ms: 5_000 }, { fallback: 'spare' }), sim('spare', { base_ms: 0 }), sim('alone', { fail: true })]);
  try {
    const events: FallbackEvent[] = [];
    await assert.rejects(runtime.embedder('slow').embed(['x'], { signal: AbortSignal.timeout(20), onFallback: (e) => events.push(e) }));
    assert.deepEqual(events, []);
    await assert.rejects(runtime.embedder('alone').embed(['x'], { signal: never() }), (err: { code?: string }) => err.code === 'upstream_failed');
  } finally {
    await runtime.close();
  }
});

test('a generator that fails before its first token hands over to its fallback', async () => {
  const { runtime } = await startRuntime([
    modelConfig({ name: 'broken', role: 'generator', backend: 'sim', options: { fail: true }, fallback: 'extractive', warmup: { batch_sizes: [] } }),
    modelConfig({ name: 'extractive', role: 'generator', backend: 'extractive' }),
  ]);
  try {
    const events: FallbackEvent[] = [];
    const stream = runtime.generator('broken').generate(
      { messages: [{ role: 'user', content: 'Is the sky blue?' }], contexts: [{ id: 'a', text: 'The sky is blue.' }], maxTokens: 50 },
      { signal: never(), onFallback: (e) => events.push(e) },
    );
    assert.equal((await collect(stream)).join(''), 'The sky is blue. [1]');
    assert.deepEqual(events, [{ from: 'broken', to: 'extractive', reason: 'error' }]);
    assert.ok(stream.usage().completion_tokens > 0);
  } finally {
    await runtime.close();
  }
});
