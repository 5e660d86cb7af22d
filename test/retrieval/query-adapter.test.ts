import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { normalize } from '../../src/core/vectors.js';
import { trainAdapterMatrix } from '../../src/retrieval/adapter-training.js';
import { QueryAdapter } from '../../src/retrieval/query-adapter.js';
import { startTestServer } from '../support/server.js';
import { HashEmbedder, openRetrieval, signal } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pronto-adapter-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A seeded generator (mulberry32): the synthetic data is the same on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function topOne(query: Float32Array, documents: Float32Array[]): number {
  let best = 0;
  let bestScore = -Infinity;
  documents.forEach((doc, i) => {
    const score = doc.reduce((sum, x, j) => sum + x * query[j], 0);
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  return best;
}

test('training learns a mapping from queries to their documents that holds for unseen queries', () => {
  const rand = random(7);
  const n = 16;
  const documents = Array.from({ length: 60 }, () => normalize(Array.from({ length: n }, () => rand() - 0.5)));
  // Queries live in another space: each is its document with coordinates permuted and signs
  // flipped, plus noise. Without an adapter the nearest document is a coincidence.
  const permutation = Array.from({ length: n }, (_, i) => (i * 5 + 3) % n);
  const queryOf = (doc: Float32Array) => normalize(permutation.map((p, i) => (i % 2 ? -1 : 1) * doc[p] + (rand() - 0.5) * 0.1));
  const examples = documents.map((doc, i) => ({ query: queryOf(doc), relevant: [i] }));
  const training = examples.slice(0, 45);
  const heldOut = examples.slice(45);
  const accuracy = (adapt: (q: Float32Array) => Float32Array) =>
    heldOut.filter(({ query, relevant }) => topOne(adapt(query), documents) === relevant[0]).length / heldOut.length;

  const matrix = trainAdapterMatrix(training, documents, { temperature: 0.05, l2: 0.0001, learningRate: 0.5, epochs: 150 });
  const adapter = new QueryAdapter({ embedder: 'synthetic', dimensions: n, training: {} }, matrix);
  assert.ok(accuracy((q) => q) <= 0.2, `unadapted held-out accuracy ${accuracy((q) => q)}`);
  assert.ok(accuracy((q) => adapter.apply(q)) >= 0.8, `adapted held-out accuracy ${accuracy((q) => adapter.apply(q))}`);
});

test('an adapter file round-trips; a bad one is a config error naming retrieval.query_adapter', async () => {
  const matrix = Float32Array.from({ length: 9 }, (_, i) => i / 10);
  const adapter = new QueryAdapter({ embedder: 'hash', dimensions: 3, training: { epochs: 1 } }, matrix);
  const path = join(dir, 'small.json');
  await adapter.save(path);
  const loaded = await QueryAdapter.load(path);
  assert.deepEqual(loaded.info, adapter.info);
  const query = Float32Array.from([0.3, -0.2, 0.9]);
  assert.deepEqual(loaded.apply(query), adapter.apply(query));

  writeFileSync(join(dir, 'not-json.json'), '{');
  writeFileSync(join(dir, 'wrong-format.json'), JSON.stringify({ format: 'other' }));
  writeFileSync(join(dir, 'short.json'), JSON.stringify({ format: 'pronto-query-adapter/1', embedder: 'x', dimensions: 4, matrix: '' }));
  for (const name of ['missing.json', 'not-json.json', 'wrong-format.json', 'short.json']) {
    await assert.rejects(QueryAdapter.load(join(dir, name)), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.key, 'retrieval.query_adapter');
      return true;
    });
  }
});

test('retrieval applies the configured adapter to dense queries (and only to them)', async () => {
  const embedder = new HashEmbedder();
  const [cats, rust] = await embedder.embed(['purring cats', 'memory safe systems language'], { signal });
  // A rank-one map sending the cat direction to the Rust document, plus a little identity.
  const n = embedder.dimensions;
  const matrix = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) matrix[i * n + j] = rust[i] * cats[j] + (i === j ? 0.01 : 0);
  const path = join(dir, 'cats-to-rust.json');
  await new QueryAdapter({ embedder: 'hash', dimensions: n, training: {} }, matrix).save(path);

  const plain = await openRetrieval();
  const adapted = await openRetrieval({ retrieval: { query_adapter: path } });
  try {
    const docs = [
      { id: 'cats', text: 'purring cats' },
      { id: 'rust', text: 'memory safe systems language' },
    ];
    for (const t of [plain, adapted]) await t.retrieval.ingest('acme/docs', docs, { embedder, signal });
    const top = async (t: typeof plain, mode: 'dense' | 'sparse') =>
      (await t.retrieval.search({ query: 'purring cats', namespace: 'acme/docs', topK: 1, mode, embedder, signal }))[0].docId;
    assert.equal(await top(plain, 'dense'), 'cats');
    assert.equal(await top(adapted, 'dense'), 'rust');
    assert.equal(await top(adapted, 'sparse'), 'cats');
    assert.equal(adapted.retrieval.queryAdapter?.info.embedder, 'hash');
  } finally {
    await plain.cleanup();
    await adapted.cleanup();
  }
});

test('the server refuses to start with an adapter trained for another embedder', async () => {
  const path = join(dir, 'other-embedder.json');
  await new QueryAdapter({ embedder: 'glove', dimensions: 4, training: {} }, new Float32Array(16)).save(path);
  await assert.rejects(
    startTestServer({ retrieval: { query_adapter: path } }),
    (err: unknown) => err instanceof ConfigError && err.key === 'retrieval.query_adapter' && /trained for glove/.test(err.message),
  );
});
