/**
 * pronto's BM25 against the Node peers a user could pick instead (not part of the test suite), on
 * a BEIR split with the same metric code (src/retrieval/eval/metrics.ts):
 * - pronto: `Bm25Index` (src/retrieval/sparse.ts) with its analyzer and the configured k1 / b / d;
 * - wink-bm25-text-search with wink-nlp-utils' lower-case, tokenizer, stop words, negation and
 *   Porter stemmer (the package's documented preparation), title and text as weighted fields;
 * - LanceDB's native full-text index (tantivy-style BM25, English stemmer and stop words).
 * Every engine indexes whole documents (title + text), so the figures compare rankers, not
 * chunking. Prints JSON: nDCG@10, recall@100, MRR@10 and per-query latency for each engine.
 *
 *   node --import tsx bench/bm25-peers.ts ../shared/data/scifact --split train [--k1 1.5 --b 0.75 --d 0] [--engines pronto,wink,lance]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as lancedb from '@lancedb/lancedb';
import { loadBeir, type BeirDataset } from '../src/retrieval/eval/beir.js';
import { mean, mrrAt, ndcgAt, percentile, recallAt } from '../src/retrieval/eval/metrics.js';
import { Bm25Index } from '../src/retrieval/sparse.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    split: { type: 'string', default: 'train' },
    k1: { type: 'string', default: '1.5' },
    b: { type: 'string', default: '0.75' },
    d: { type: 'string', default: '0' },
    'title-weight': { type: 'string', default: '1' },
    engines: { type: 'string', default: 'pronto,wink,lance' },
  },
});
const dataset = await loadBeir(positionals[0], values.split!);
const DEPTH = 100;

/** One engine: index the corpus, then answer a query with doc ids best first. */
interface Engine {
  name: string;
  settings: Record<string, unknown>;
  build(corpus: BeirDataset['corpus']): Promise<void>;
  search(query: string): Promise<string[]>;
  close?(): Promise<void>;
}

const signal = new AbortController().signal;

function pronto(): Engine {
  const bm25 = { k1: Number(values.k1), b: Number(values.b), d: Number(values.d) };
  const index = new Bm25Index(bm25, async () => new Map());
  return {
    name: 'pronto Bm25Index',
    settings: bm25,
    async build(corpus) {
      await index.upsert(
        'bench',
        corpus.map((doc) => ({ id: `${doc.id}#0`, docId: doc.id, index: 0, text: doc.text, title: doc.title, metadata: {} })),
        async () => {},
      );
    },
    async search(query) {
      return (await index.search(query, { namespace: 'bench', topK: DEPTH, signal })).map((hit) => hit.docId);
    },
  };
}

function wink(): Engine {
  // CommonJS packages without types: loaded as the README shows.
  const require = createRequire(import.meta.url);
  const bm25 = require('wink-bm25-text-search');
  const nlp = require('wink-nlp-utils');
  const engine = bm25();
  const titleWeight = Number(values['title-weight']);
  const settings = { fldWeights: { title: titleWeight, text: 1 }, bm25Params: { k1: Number(values.k1), b: Number(values.b) } };
  return {
    name: 'wink-bm25-text-search',
    settings,
    async build(corpus) {
      engine.defineConfig(settings);
      engine.definePrepTasks([nlp.string.lowerCase, nlp.string.tokenize0, nlp.tokens.removeWords, nlp.tokens.stem, nlp.tokens.propagateNegations]);
      corpus.forEach((doc) => engine.addDoc({ title: doc.title ?? '', text: doc.text }, doc.id));
      engine.consolidate();
    },
    async search(query) {
      return (engine.search(query, DEPTH) as Array<[string, number]>).map(([id]) => id);
    },
  };
}

function lance(): Engine {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-bm25-peers-'));
  const fts = { baseTokenizer: 'simple', language: 'English', lowercase: true, stem: true, removeStopWords: true, asciiFolding: true, withPosition: false } as const;
  let table: lancedb.Table;
  let db: lancedb.Connection;
  return {
    name: 'LanceDB full-text index',
    settings: fts,
    async build(corpus) {
      db = await lancedb.connect(dir);
      table = await db.createTable(
        'docs',
        corpus.map((doc) => ({ id: doc.id, content: doc.title ? `${doc.title}\n${doc.text}` : doc.text })),
      );
      await table.createIndex('content', { config: lancedb.Index.fts(fts) });
    },
    async search(query) {
      const rows = await table.query().fullTextSearch(query, { columns: 'content' }).select(['id', '_score']).limit(DEPTH).toArray();
      return rows.map((row) => String(row.id));
    },
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const report: Record<string, unknown>[] = [];
const ENGINES: Record<string, () => Engine> = { pronto, wink, lance };
for (const engine of values.engines!.split(',').map((name) => ENGINES[name]())) {
  const started = performance.now();
  await engine.build(dataset.corpus);
  const buildSeconds = (performance.now() - started) / 1000;
  const scores: Array<{ ndcg10: number; recall100: number; mrr10: number; ms: number }> = [];
  for (const query of dataset.queries) {
    const begun = performance.now();
    let ranked: string[];
    try {
      ranked = await engine.search(query.text);
    } catch (err) {
      // LanceDB's query parser refuses some punctuation; a refused query scores 0 and is counted.
      process.stderr.write(`${engine.name}: query ${query.id} failed: ${(err as Error).message.split('\n')[0]}\n`);
      ranked = [];
    }
    const ms = performance.now() - begun;
    const judged = dataset.qrels.get(query.id)!;
    scores.push({ ndcg10: ndcgAt(ranked, judged, 10), recall100: recallAt(ranked, judged, 100), mrr10: mrrAt(ranked, judged, 10), ms });
  }
  await engine.close?.();
  const round = (x: number, digits = 4) => Number(x.toFixed(digits));
  report.push({
    engine: engine.name,
    settings: engine.settings,
    'ndcg@10': round(mean(scores.map((s) => s.ndcg10))),
    'recall@100': round(mean(scores.map((s) => s.recall100))),
    'mrr@10': round(mean(scores.map((s) => s.mrr10))),
    query_ms: { p50: round(percentile(scores.map((s) => s.ms), 50), 2), p95: round(percentile(scores.map((s) => s.ms), 95), 2) },
    build_s: round(buildSeconds, 1),
  });
}
console.log(JSON.stringify({ dataset: positionals[0], split: values.split, queries: dataset.queries.length, documents: dataset.corpus.length, engines: report }, null, 2));
