/**
 * ANN scale check (not part of the test suite): N synthetic 512-d chunks in one namespace, exact
 * search vs the IVF-PQ index with the configured nprobes/refine. Prints JSON: build time, memory,
 * recall@10 against exact search and query latency percentiles.
 *
 *   node --import tsx bench/ann-scale.ts [--rows 200000] [--queries 200] [--nprobes 20,8,4] [--refine 10]
 *
 * Default partitions: rows / 2048 (the store's own rule).
 *
 * The vectors are a Gaussian mixture (2,000 clusters with noise), closer to real embeddings than
 * uniform noise, on which no ANN index (or nearest-neighbour question) is meaningful.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as lancedb from '@lancedb/lancedb';
import pino from 'pino';
import { normalize } from '../src/core/vectors.js';
import { percentile } from '../src/retrieval/eval/metrics.js';
import { LanceVectorStore } from '../src/retrieval/lance-store.js';
import { tableName } from '../src/retrieval/namespace.js';
import type { Chunk } from '../src/retrieval/types.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    queries: { type: 'string', default: '200' },
    nprobes: { type: 'string', default: '20,8,4' },
    refine: { type: 'string', default: '10' },
    dims: { type: 'string', default: '512' },
    partitions: { type: 'string' },
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
const ns = 'bench/ann';
const signal = new AbortController().signal;
const nprobesList = values.nprobes.split(',').map(Number);
/** Shared with the store, so the bench can try several nprobes on one index. */
const ann = {
  minRows: Number.MAX_SAFE_INTEGER,
  numPartitions: values.partitions ? Number(values.partitions) : undefined,
  nprobes: nprobesList[0],
  refineFactor: Number(values.refine),
};
const openStore = async () => {
  const store = new LanceVectorStore({ dir, logger: pino({ level: 'warn' }), ann });
  await store.open();
  return store;
};
const rowsFrom = (start: number, n: number) =>
  Array.from({ length: n }, (_, k) => ({
    chunk: { id: `d${start + k}#0`, docId: `d${start + k}`, index: 0, text: `chunk ${start + k}`, metadata: {} } as Chunk,
    vector: sample(start + k),
  }));
let store = await openStore();
try {
  let started = performance.now();
  // The first batch goes through the store (it creates the table); the rest are appended directly:
  // the store's upsert is a merge on id, whose cost grows with the table, which a bulk load of new
  // ids does not need. Reopening the store then loads the rows as a restart would.
  const first = rowsFrom(0, Math.min(10_000, rows));
  await store.upsert(ns, first.map((r) => r.chunk), first.map((r) => r.vector));
  const table = await (await lancedb.connect(dir)).openTable(tableName(ns));
  for (let i = first.length; i < rows; i += 10_000) {
    const batch = rowsFrom(i, Math.min(10_000, rows - i));
    await table.add(
      batch.map(({ chunk, vector }) => ({
        id: chunk.id, doc_id: chunk.docId, idx: 0, text: chunk.text, title: null, metadata: '{}', vector: Array.from(vector),
      })),
    );
  }
  table.close();
  await store.close();
  store = await openStore();
  await store.count(ns);
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
  const round = (x: number) => Number(x.toFixed(2));
  await run(); // warm the index
  const annRuns = [];
  for (const nprobes of nprobesList) {
    ann.nprobes = nprobes;
    const result = await run();
    const recall =
      result.results.reduce((sum, got, i) => sum + got.filter((id) => exact.results[i].includes(id)).length / 10, 0) /
      queries;
    annRuns.push({ nprobes, p50_ms: round(result.p50), p95_ms: round(result.p95), 'recall@10': Number(recall.toFixed(4)) });
  }
  console.log(
    JSON.stringify(
      {
        rows,
        dims,
        queries,
        refine_factor: Number(values.refine),
        load_seconds: round(loadSeconds),
        index_build_seconds: round(buildSeconds),
        rss_mb_after_build: Math.round(process.memoryUsage().rss / 2 ** 20),
        rss_mb_delta_build: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
        exact: { p50_ms: round(exact.p50), p95_ms: round(exact.p95) },
        ann: annRuns,
      },
      null,
      2,
    ),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
