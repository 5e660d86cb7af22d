import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { sharedPath } from '../models/helpers.js';
import floors from './floors.json' with { type: 'json' };
import { writeStaticConfig } from './static-config.js';

const scifact = sharedPath('data/scifact');
const BIN = join(import.meta.dirname, '../../bin/pronto.js');
const run = promisify(execFile);
/** A regression is a drop of more than this below the floor (floors are this code's own figures: eval is deterministic). */
const TOLERANCE = 0.01;

/**
 * The fixed subset: the first `queries` judged train queries, over their judged documents plus
 * every `stride`-th abstract of the corpus as distractors. About a third of SciFact, so the static
 * embedder ingests it in well under a minute on a quiet machine.
 */
function writeSubset(dir: string, { queries, stride }: { queries: number; stride: number }): void {
  const lines = (file: string) => readFileSync(join(scifact!, file), 'utf8').trim().split('\n');
  const [header, ...qrels] = lines('qrels/train.tsv');
  const judged = [...new Set(qrels.map((line) => line.split('\t')[0]))].slice(0, queries);
  const kept = new Set(judged);
  const qrelsKept = qrels.filter((line) => kept.has(line.split('\t')[0]));
  const relevant = new Set(qrelsKept.map((line) => line.split('\t')[1]));
  const corpus = lines('corpus.jsonl').filter((line, i) => i % stride === 0 || relevant.has(String(JSON.parse(line)._id)));
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  writeFileSync(join(dir, 'corpus.jsonl'), corpus.join('\n') + '\n');
  writeFileSync(join(dir, 'queries.jsonl'), lines('queries.jsonl').filter((line) => kept.has(String(JSON.parse(line)._id))).join('\n') + '\n');
  writeFileSync(join(dir, 'qrels', 'train.tsv'), [header, ...qrelsKept].join('\n') + '\n');
}

const skip = scifact ? false : '../shared/data/scifact is absent';
const dir = mkdtempSync(join(tmpdir(), 'pronto-quality-'));
const config = join(dir, 'static.yaml');
const { subset, retrieval: floor } = floors.scifact_train_subset;

before(() => {
  if (skip) return;
  writeSubset(join(dir, 'beir'), subset);
  writeStaticConfig(config, join(dir, 'data'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const evaluate = async (mode: string) => {
  const { stdout } = await run(process.execPath, [BIN, 'eval', join(dir, 'beir'), '--split', 'train', '--mode', mode, '--config', config], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
    timeout: 1_800_000,
  });
  return JSON.parse(stdout) as { queries: number; 'ndcg@10': number };
};

test(`pronto eval on a fixed SciFact train subset stays within ${TOLERANCE} nDCG@10 of the floors in floors.json, and hybrid does not fall below BM25`, { skip }, async () => {
  const sparse = await evaluate('sparse');
  const hybrid = await evaluate('hybrid');
  assert.equal(hybrid.queries, subset.queries);
  for (const [mode, report] of [['sparse', sparse], ['hybrid', hybrid]] as const) {
    const expected = floor[mode];
    assert.ok(report['ndcg@10'] >= expected['ndcg@10'] - TOLERANCE, `${mode} nDCG@10 ${report['ndcg@10']} fell more than ${TOLERANCE} below its floor ${expected['ndcg@10']}`);
  }
  // The default fusion's promise (docs/BENCHMARKS.md): adding the dense list does not cost BM25's quality.
  assert.ok(hybrid['ndcg@10'] >= sparse['ndcg@10'], `hybrid ${hybrid['ndcg@10']} is below BM25 alone ${sparse['ndcg@10']}`);
  process.stderr.write(`quality gate: nDCG@10 sparse ${sparse['ndcg@10']}, hybrid ${hybrid['ndcg@10']}\n`);
});
