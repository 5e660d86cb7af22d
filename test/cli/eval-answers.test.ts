import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/program.js';

const BIN = join(import.meta.dirname, '../../bin/pronto.js');
const run = promisify(execFile);

const CORPUS = [
  { _id: 'apollo', title: 'Apollo 11', text: 'Apollo 11 was the spaceflight that first landed humans on the Moon. It landed on July 20, 1969. Neil Armstrong stepped out first.' },
  { _id: 'tower', title: 'CN Tower', text: 'The CN Tower is a concrete tower in Toronto. Its metal staircase has 2,579 steps. It opened to the public in 1976.' },
  { _id: 'cylinder', title: 'Cyrus Cylinder', text: 'The Cyrus Cylinder is an ancient clay cylinder. It was written in the name of Cyrus the Great, king of Persia.' },
];
const QUESTIONS = [
  { question: 'when did apollo 11 land on the moon', answers: ['July 20, 1969'], gold_ids: ['apollo'] },
  { question: 'how many steps does the cn tower have', answers: ['2,579'], gold_ids: ['tower'] },
  { question: 'in whose name was the cyrus cylinder written', answers: ['Cyrus the Great'], gold_ids: ['cylinder'] },
];

describe('pronto eval-answers on a small NQ-style data set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-eval-answers-'));
  const env = { ...process.env, PRONTO_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' };
  const pronto = async (...args: string[]) => JSON.parse((await run(process.execPath, [BIN, 'eval-answers', ...args], { env, timeout: 120_000 })).stdout);

  before(() => {
    writeFileSync(join(dir, 'corpus.jsonl'), CORPUS.map((d) => JSON.stringify(d)).join('\n') + '\n');
    writeFileSync(join(dir, 'questions.jsonl'), QUESTIONS.map((q) => JSON.stringify(q)).join('\n') + '\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('asks every question through the pipeline and reports answer quality; the index is reused', async () => {
    const out = join(dir, 'answers.jsonl');
    const first = await pronto(dir, '--out', out);
    assert.equal(first.questions, 3);
    assert.equal(first.ingest.cached, false);
    assert.deepEqual(first.best_subspan_em, { answer: 100, first_sentence: 100 });
    assert.equal(first.gold_in_contexts, 100);
    assert.equal(first.abstention.rate, 0);
    assert.ok(first.answer_words.mean > 3 && first.answer_words.mean <= 40);
    assert.ok(first.latency_ms.p50 >= first.answer_stage_ms.p50);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.match(rows[0].answer, /July 20, 1969\. \[\d\]/);

    const second = await pronto(dir, '--subset', 'odd');
    assert.deepEqual(second.ingest, { cached: true });
    assert.equal(second.questions, 1);
  });

  test('a bad option is a usage error (status 2) naming it', async () => {
    for (const [option, value] of [['--subset', 'half'], ['--limit', '0'], ['--top-k', 'x']]) {
      let stderr = '';
      const status = await runCli(['eval-answers', dir, option, value], { out: () => undefined, err: (text) => (stderr += text) });
      assert.equal(status, 2);
      assert.match(stderr, new RegExp(option));
    }
  });
});
