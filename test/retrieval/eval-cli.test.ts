import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

const BIN = join(import.meta.dirname, '../../bin/pronto.js');
const run = promisify(execFile);

const TOPICS = [
  ['photosynthesis', 'Chloroplasts capture light energy and fix carbon dioxide into sugars.'],
  ['volcanoes', 'Magma rises through the crust and erupts as lava and ash.'],
  ['vaccines', 'Vaccination trains the immune system with antigens to prevent infection.'],
  ['glaciers', 'Compacted snow forms ice sheets that flow slowly downhill and carve valleys.'],
  ['tides', 'The gravitational pull of the moon raises ocean tides twice a day.'],
  ['neurons', 'Nerve cells transmit electrical impulses across synapses with neurotransmitters.'],
] as const;

/** A six-document BEIR data set: one query per document, asking about its topic. */
function writeBeir(dir: string): void {
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  const lines = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  writeFileSync(join(dir, 'corpus.jsonl'), lines(TOPICS.map(([id, text]) => ({ _id: id, title: id, text }))));
  writeFileSync(join(dir, 'queries.jsonl'), lines(TOPICS.map(([id, text]) => ({ _id: `q-${id}`, text: `what about ${id}: ${text.split(' ').slice(0, 4).join(' ')}` }))));
  writeFileSync(join(dir, 'qrels', 'train.tsv'), 'query-id\tcorpus-id\tscore\n' + TOPICS.map(([id]) => `q-${id}\t${id}\t1`).join('\n') + '\n');
}

describe('pronto eval and pronto train-adapter on a small BEIR data set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-eval-'));
  const beir = join(dir, 'beir');
  const env = { ...process.env, PRONTO_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' };
  const pronto = async (...args: string[]) => JSON.parse((await run(process.execPath, [BIN, ...args], { env, timeout: 120_000 })).stdout);

  before(() => writeBeir(beir));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('eval ingests once, then reuses the scratch namespace; every query finds its document', async () => {
    const first = await pronto('eval', beir, '--split', 'train', '--mode', 'sparse');
    assert.equal(first.queries, TOPICS.length);
    assert.equal(first.ingest.cached, false);
    assert.equal(first['ndcg@10'], 1);
    assert.equal(first['recall@100'], 1);
    const second = await pronto('eval', beir, '--split', 'train', '--mode', 'hybrid');
    assert.deepEqual(second.ingest, { cached: true });
    assert.equal(second['mrr@10'], 1);
    assert.ok(second.latency_ms.p50 >= second.search_ms.p50);
  });

  test('train-adapter writes an adapter that eval --adapter uses; --cv trains one per fold', async () => {
    const out = join(dir, 'adapter.json');
    const trained = await pronto('train-adapter', beir, '--split', 'train', '--out', out, '--epochs', '3');
    assert.ok(existsSync(out));
    assert.equal(trained.dimensions, 512);
    assert.equal(trained.training.queries, TOPICS.length);
    const adapted = await pronto('eval', beir, '--split', 'train', '--mode', 'dense', '--adapter', out);
    assert.equal(adapted.adapter.file, out);
    assert.equal(adapted.queries, TOPICS.length);
    const folds = await pronto('eval', beir, '--split', 'train', '--mode', 'hybrid', '--cv', '3');
    assert.equal(folds.adapter.cross_validation_folds, 3);
    assert.equal(folds.queries, TOPICS.length);
  });

  test('bad arguments fail with a message that names them', async () => {
    const usage = (pattern: RegExp) => (err: { code?: number; stderr?: string }) => err.code === 2 && pattern.test(err.stderr ?? '');
    await assert.rejects(pronto('eval', beir, '--split', 'train', '--cv', '1'), usage(/--cv <k>' argument '1' is invalid\. expected a whole number ≥ 2/));
    await assert.rejects(pronto('eval', beir, '--split', 'train', '--mode', 'fuzzy'), usage(/Allowed choices are dense, sparse, hybrid/));
    await assert.rejects(pronto('eval', beir, '--split', 'train', '--limit', 'ten'), usage(/--limit <n>' argument 'ten' is invalid/));
    await assert.rejects(pronto('eval', beir, '--split', 'train', '--mode', 'sparse', '--cv', '3'), usage(/acts on dense search/));
  });
});
