import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeepPartial } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { metricValue, startTestServer } from '../support/server.js';

const MODELS = [
  { name: 'use-lite', role: 'embedder', backend: 'use-lite', warmup: { batch_sizes: [1] } },
  { name: 'extractive', role: 'generator', backend: 'extractive' },
  { name: 'sim-gen', role: 'generator', backend: 'sim', options: { base_ms: 0, per_item_ms: 1 } },
  { name: 'sim-rerank', role: 'reranker', backend: 'sim', options: { base_ms: 0, per_item_ms: 0 } },
] as unknown as Config['models'];

/** A server whose pipeline uses sim-gen and sim-rerank, with `faults` injected into stages. */
async function withServer(faults: Config['faults'], run: (server: Awaited<ReturnType<typeof startTestServer>>) => Promise<void>, extra: DeepPartial<Config> = {}) {
  const server = await startTestServer({
    models: MODELS,
    pipeline: { embedder: 'use-lite', generator: 'sim-gen', reranker: 'sim-rerank', fallback_generator: 'extractive' },
    deadline: { budgets: { rerank: 1000 } },
    faults,
    ...extra,
  });
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

async function degradedCount(url: string, stage: string, reason: string) {
  return metricValue(url, 'pronto_degradations_total', { stage, reason });
}

describe('every stage fallback, end to end', () => {
  test('rerank throws -> fused order, flagged and counted', () =>
    withServer({ rerank: { mode: 'throw' } }, async (server) => {
      const body = await (await server.post('/v1/search', { query: 'deadlines and budgets' })).json();
      assert.ok(body.hits.length > 0);
      assert.deepEqual(body.degraded, [{ stage: 'rerank', reason: 'error', fallback: 'fused_order' }]);
      assert.equal(await degradedCount(server.url, 'rerank', 'error'), 1);
    }));

  test('rerank overruns its budget -> fused order, reason timeout', () =>
    withServer({ rerank: { mode: 'delay', delay_ms: 60_000 } }, async (server) => {
      const body = await (await server.post('/v1/search', { query: 'deadlines and budgets' })).json();
      assert.ok(body.hits.length > 0);
      assert.deepEqual(body.degraded, [{ stage: 'rerank', reason: 'timeout', fallback: 'fused_order' }]);
      assert.equal(await degradedCount(server.url, 'rerank', 'timeout'), 1);
    }));

  test('embedding fails -> sparse retrieval only', () =>
    withServer({ embed: { mode: 'throw' } }, async (server) => {
      const body = await (await server.post('/v1/search', { query: 'prometheus metrics', mode: 'hybrid', rerank: false })).json();
      assert.ok(body.hits.length > 0, 'BM25 still answers');
      assert.deepEqual(body.degraded, [{ stage: 'embed', reason: 'error', fallback: 'sparse' }]);
      assert.equal(await degradedCount(server.url, 'embed', 'error'), 1);
    }));

  test('retrieval fails -> the answer comes without context, flagged', () =>
    withServer({ retrieve: { mode: 'throw' } }, async (server) => {
      const res = await server.post('/v1/infer', { text: 'What is pronto?' });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.deepEqual(body.contexts, []);
      assert.ok(body.answer.length > 0);
      assert.deepEqual(body.degraded, [{ stage: 'retrieve', reason: 'error', fallback: 'no_context' }]);
      assert.equal(await degradedCount(server.url, 'retrieve', 'error'), 1);
    }));

  test('the generator fails -> the extractive fallback answers, flagged', () =>
    withServer({ generate: { mode: 'throw' } }, async (server) => {
      const body = await (await server.post('/v1/infer', { text: 'How does pronto degrade?' })).json();
      assert.equal(body.model, 'extractive');
      assert.ok(body.answer.length > 0);
      assert.deepEqual(body.degraded, [{ stage: 'generate', reason: 'error', fallback: 'extractive' }]);
      assert.equal(await degradedCount(server.url, 'generate', 'error'), 1);
    }));

  test('a deadline that leaves no useful answer is a 504 saying what was done', () =>
    withServer({ embed: { mode: 'delay', delay_ms: 60_000 } }, async (server) => {
      const res = await server.post('/v1/infer', { text: 'What is pronto?' }, { 'x-pronto-deadline-ms': '2000' });
      assert.equal(res.status, 504);
      const body = await res.json();
      assert.equal(body.error.code, 'deadline_exceeded');
      assert.ok('sanitize' in body.error.completed_stages, 'lists the stages done');
      assert.match(res.headers.get('server-timing') ?? '', /sanitize;dur=/);
    }, { deadline: { budgets: { embed: 60_000 } } }));
});
