import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSim } from '../../src/models/backends/sim.js';
import type { Embedder, Generator, Reranker } from '../../src/models/types.js';
import { collect, modelConfig, never } from './helpers.js';

const sim = (role: 'embedder' | 'reranker' | 'generator', options: Record<string, unknown> = {}) =>
  createSim(modelConfig({ name: `sim-${role}`, role, backend: 'sim', options }));

test('sim embeddings are deterministic unit vectors of the configured size', async () => {
  const embedder = sim('embedder', { dimensions: 16, base_ms: 0, per_item_ms: 0 }) as Embedder;
  const [a, b, c] = await embedder.embed(['alpha', 'beta', 'alpha'], { signal: never() });
  assert.equal(a.length, 16);
  assert.deepEqual(a, c);
  assert.notDeepEqual(a, b);
  assert.ok(Math.abs(a.reduce((s, x) => s + x * x, 0) - 1) < 1e-5);
});

test('one call at a time per instance: concurrent calls run one after the other', async () => {
  const embedder = sim('embedder', { base_ms: 5, per_item_ms: 0 }) as Embedder;
  const finished: number[] = [];
  await Promise.all([1, 2, 3].map((n) => embedder.embed([String(n)], { signal: never() }).then(() => finished.push(n))));
  assert.deepEqual(finished, [1, 2, 3]);
});

test('sim reranker scores one per document; generator streams the configured tokens', async () => {
  const reranker = sim('reranker', { base_ms: 0, per_item_ms: 0 }) as Reranker;
  const scores = await reranker.rerank('q', ['a', 'b', 'c'], { signal: never() });
  assert.equal(scores.length, 3);
  const generator = sim('generator', { base_ms: 0, per_item_ms: 0, answer_tokens: 5 }) as Generator;
  const stream = generator.generate({ messages: [{ role: 'user', content: 'echo me back' }], contexts: [], maxTokens: 100 }, { signal: never() });
  assert.deepEqual(await collect(stream), ['echo', ' me', ' back', ' echo', ' me']);
  assert.equal(stream.usage().completion_tokens, 5);
});

test('fail: true fails every call; an aborted signal stops the wait', async () => {
  const failing = sim('embedder', { fail: true }) as Embedder;
  await assert.rejects(failing.embed(['x'], { signal: never() }), (err: { code?: string }) => err.code === 'upstream_failed');
  const slow = sim('embedder', { base_ms: 10_000 }) as Embedder;
  await assert.rejects(slow.embed(['x'], { signal: AbortSignal.timeout(10) }));
});

test('bad options fail at build time naming the key', () => {
  assert.throws(() => sim('embedder', { base_ms: -1 }), /options\.base_ms/);
});
