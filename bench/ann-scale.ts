/**
 * ANN scale check (not part of the test suite): N synthetic 512-d chunks in one namespace, exact
 * search vs the IVF-PQ index with the configured nprobes/refine. Prints JSON: build time, memory,
 * recall@10 against exact search and query latency percentiles.
 *
 *   node --import tsx bench/ann-scale.ts [--rows 200000] [--queries 200] [--nprobes 20] [--refine 5]
 *
 * The vectors are a Gaussian mixture (2,000 clusters with noise), closer to real embeddings than
 * uniform noise, on which no ANN index (or nearest-neighbour question) is meaningful.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { normalize } from '../src/models/vectors.js';
import { percentile } from '../src/retrieval/eval/metrics.js';
import { LanceVectorStore } from '../src/retrieval/lance-store.js';
import type { Chunk } from '../src/retrieval/types.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    queries: { type: 'string', default: '200' },
    nprobes: { type: 'string', default: '20' },
    refine: { type: 'string', default: '5' },
    dims: { type: 'string', default: '512' },
  },
});
const rows = Number(values.rows);
const dims = Number(values.dims);
const queries = Number(values.queries);

/** A small deterministic PRNG (mulberry32) with Box-Muller normals, so runs are repeatable. */
function rng(seed: number) {
  let a = seed;
  const uniform = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}
const normal = rng(42);
const centroids = Array.from({ length: 2000 }, () => Float32Array.from({ length: dims }, normal));
const sample = (i: number) => {
  const c = centroids[i % centroids.length];
  return normalize(Float32Array.from(c, (x) => x + 0.6 * normal()));
};

const dir = mkdtempSync(join(tmpdir(), 'pronto-ann-'));
const store = new LanceVectorStore({
  dir,
  logger: pino({ level: 'warn' }),
  ann: { minRows: Number.MAX_SAFE_INTEGER, nprobes: Number(values.nprobes), refineFactor: Number(values.refine) },
});
const ns = 'bench/ann';
const signal = new AbortController().signal;
try {
  await store.open();
  let started = performance.now();
  for (let i = 0; i < rows; i += 10_000) {
    const n = Math.min(10_000, rows - i);
    const chunks: Chunk[] = Array.from({ length: n }, (_, k) => ({
      id: `d${i + k}#0`, docId: `d${i + k}`, index: 0, text: `chunk ${i + k}`, metadata: {},
    }));
    await store.upsert(ns, chunks, Array.from({ length: n }, (_, k) => sample(i + k)));
  }
  const loadSeconds = (performance.now() - started) / 1000;
  const queryVectors = Array.from({ length: queries }, (_, i) => sample(rows + i * 7919));

  const run = async () => {
    const latencies: number[] = [];
    const results: string[][] = [];
    for (const vector of queryVectors) {
      const t = performance.now();
      const hits = await store.search(vector, { namespace: ns, topK: 10, signal });
      latencies.push(performance.now() - t);
      results.push(hits.map((h) => h.id));
    }
    return { results, p50: percentile(latencies, 50), p95: percentile(latencies, 95) };
  };
  const exact = await run();
  const rssBefore = process.memoryUsage().rss;
  started = performance.now();
  await store.buildIndex(ns);
  const buildSeconds = (performance.now() - started) / 1000;
  await run(); // warm the index
  const ann = await run();
  const recall =
    ann.results.reduce((sum, got, i) => sum + got.filter((id) => exact.results[i].includes(id)).length / 10, 0) /
    queries;
  const round = (x: number) => Number(x.toFixed(2));
  console.log(
    JSON.stringify(
      {
        rows,
        dims,
        queries,
        nprobes: Number(values.nprobes),
        refine_factor: Number(values.refine),
        load_seconds: round(loadSeconds),
        index_build_seconds: round(buildSeconds),
        rss_mb_after_build: Math.round(process.memoryUsage().rss / 2 ** 20),
        rss_mb_delta_build: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
        exact: { p50_ms: round(exact.p50), p95_ms: round(exact.p95) },
        ann: { p50_ms: round(ann.p50), p95_ms: round(ann.p95), 'recall@10': Number(recall.toFixed(4)) },
      },
      null,
      2,
    ),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
