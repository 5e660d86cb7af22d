import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { LanceVectorStore } from '../../src/retrieval/lance-store.js';
import type { Config } from '../../src/config/schema.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createRetrieval } from '../../src/retrieval/create-retrieval.js';
import type { Retrieval } from '../../src/retrieval/retrieval.js';
import { WEIGHT_AND_GATE_GRID } from '../../src/retrieval/tuning/fusion-grid.js';
import { heldOutLists } from '../../src/retrieval/tuning/held-out-lists.js';
import { fitFusionLabelFree, fusionAsConfig, settingAsFusion } from '../../src/retrieval/tuning/label-free.js';
import { heldOutSentences, withoutSentence } from '../../src/retrieval/tuning/pseudo-queries.js';
import type { Chunk } from '../../src/retrieval/types.js';
import { HashEmbedder, openRetrieval, signal, silentLogger, topicCorpus, type TestRetrieval } from './helpers.js';

const corpus = topicCorpus();

const chunk = (docId: string, index: number, text: string): Chunk => ({ id: `${docId}#${index}`, docId, index, text, metadata: {} });

describe('pseudo-queries held out of their documents', () => {
  test('one sentence of a first chunk per document, documents spread over the namespace, the same on every run', () => {
    const chunks = [
      chunk('a', 0, 'Short. Too short.'),
      chunk('b', 0, 'Only one sentence here with enough words to be a query.'),
      chunk('c', 0, 'The first sentence of document c is long enough. The second sentence of document c is long too.'),
      chunk('c', 1, 'A later chunk of document c has sentences that are long enough. They are never chosen here at all.'),
      chunk('d', 0, 'The first sentence of document d is long enough. Tiny one. The third sentence of document d is long too.'),
    ];
    const queries = heldOutSentences(chunks, 10);
    assert.deepEqual(
      queries.map((q) => q.docId),
      ['c', 'd'],
    );
    assert.ok(queries.every((q) => chunks.some((c) => c.docId === q.docId && c.index === 0 && c.text.includes(q.text))));
    assert.deepEqual(heldOutSentences(chunks, 10), queries);
    assert.deepEqual(
      heldOutSentences(chunks, 1).map((q) => q.docId),
      ['c'],
    );
  });

  test('withoutSentence takes the sentence out of a chunk and leaves other chunks as they are', () => {
    const c = chunk('c', 0, 'Alpha beta gamma delta epsilon zeta. Eta theta iota kappa lambda mu. Nu xi omicron pi rho sigma.');
    assert.equal(withoutSentence(c, 'Eta theta iota kappa lambda mu.').text, 'Alpha beta gamma delta epsilon zeta. Nu xi omicron pi rho sigma.');
    assert.equal(withoutSentence(c, 'Not in this chunk at all.'), c);
  });
});

describe('label-free fusion on an ingested namespace', () => {
  let t: TestRetrieval;
  let store: LanceVectorStore;
  const embedder = new HashEmbedder();
  before(async () => {
    t = await openRetrieval();
    store = t.retrieval.store as LanceVectorStore;
    const result = await t.retrieval.ingest('public/topics', corpus, { embedder, signal });
    assert.equal(result.failed.length, 0);
  });
  after(() => t.cleanup());

  test('each pseudo-query is asked of a copy without its sentence, and the namespace is left as it was', async () => {
    const { queries, lists } = await heldOutLists({ store, namespace: 'public/topics', rc: t.config.retrieval, embedder }, 8, signal);
    assert.equal(queries.length, 8);
    for (const [i, query] of queries.entries()) {
      const own = (hits: typeof lists[number]['dense']) => hits.find((h) => h.docId === query.docId);
      for (const hits of [lists[i].dense, lists[i].sparse]) {
        assert.ok(own(hits), `${query.docId} is among its pseudo-query's candidates`);
        assert.ok(!own(hits)!.text.includes(query.text), `${query.docId} was searched with its sentence still in it`);
      }
      assert.deepEqual(lists[i].judged, new Map([[query.docId, 1]]));
    }
    const stored = await t.retrieval.search({ query: queries[0].text, namespace: 'public/topics', topK: 1, mode: 'sparse', embedder, signal });
    assert.ok(stored[0].text.includes(queries[0].text));
  });

  test('the chosen setting is one of the grid, the config it prints loads, and an adapter trains on the pseudo-queries', async () => {
    const fitted = await fitFusionLabelFree({ store, namespace: 'public/topics', rc: t.config.retrieval, embedder }, 12, signal, { adapter: true });
    assert.equal(fitted.adapter!.info.training.queries, 12);
    assert.equal(fitted.adapter!.info.dimensions, embedder.dimensions);
    assert.ok(WEIGHT_AND_GATE_GRID.some((s) => JSON.stringify(s) === JSON.stringify(fitted.chosen)));
    assert.equal(fitted.report.pseudo_queries, 12);
    const config = loadConfig({ env: {}, overrides: fusionAsConfig(settingAsFusion(fitted.chosen), t.config.retrieval) as never });
    assert.equal(config.retrieval.weights.dense, fitted.chosen.dense);
    assert.equal(config.retrieval.agreement.enabled, fitted.chosen.gate !== undefined);
  });
});

test('pronto tune NAMESPACE stores the fit with the namespace, prints it, and --reset drops it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-tune-'));
  try {
    const file = join(dir, 'docs.jsonl');
    writeFileSync(file, corpus.map((d) => JSON.stringify(d)).join('\n') + '\n');
    // The simulated embedder keeps the model start-ups to a few seconds (use-lite's take ~30 s under load).
    const config = join(dir, 'config.json');
    const sim = { name: 'sim', role: 'embedder', backend: 'sim', options: { base_ms: 0, per_item_ms: 0 }, warmup: { batch_sizes: [1] } };
    writeFileSync(config, JSON.stringify({ models: [sim, { name: 'extractive', role: 'generator', backend: 'extractive' }], pipeline: { embedder: 'sim' } }));
    const env = { ...process.env, PRONTO_CONFIG: config, PRONTO_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' };
    const bin = join(import.meta.dirname, '../../bin/pronto.js');
    const run = async (...args: string[]) => JSON.parse((await promisify(execFile)(process.execPath, [bin, ...args], { env, timeout: 120_000 })).stdout);
    await promisify(execFile)(process.execPath, [bin, 'ingest', file, '--namespace', 'topics'], { env, timeout: 120_000 });
    const tuned = await run('tune', 'topics', '--queries', '10', '--adapter');
    assert.equal(tuned.namespace, 'public/topics');
    assert.equal(tuned.pseudo_queries, 10);
    assert.ok(tuned.chosen['ndcg@10'] >= tuned.bm25_alone['ndcg@10']);
    assert.deepEqual(tuned.stored.version, 1);
    assert.equal(tuned.adapter.training.queries, 10);
    assert.equal(tuned.config.retrieval.weights.dense, tuned.chosen.dense);

    // What a server on this data dir would read.
    const loaded = loadConfig({ env: {}, file: config, overrides: { data_dir: join(dir, 'data') } });
    const reader = await openStored(loaded);
    try {
      const stored = await reader.tuning.get('public/topics');
      assert.equal(stored?.version, 1);
      assert.deepEqual(stored?.fusion.weights, tuned.fusion.weights);
      assert.equal(stored?.adapter?.info.training.queries, 10);
    } finally {
      await reader.close();
    }

    assert.deepEqual(await run('tune', 'topics', '--reset'), { namespace: 'public/topics', reset: true });
    await assert.rejects(run('tune', 'missing'), (err: { code?: number; stderr?: string }) => err.code === 2 && /public\/missing does not exist/.test(err.stderr ?? ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function openStored(config: Config): Promise<Retrieval> {
  const retrieval = createRetrieval(config, { metrics: createMetrics({ defaultMetrics: false }), logger: silentLogger });
  await retrieval.start();
  return retrieval;
}
