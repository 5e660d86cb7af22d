import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { sharedPath } from '../models/helpers.js';
import floors from './floors.json' with { type: 'json' };
import { writeStaticConfig } from './static-config.js';

const nq = sharedPath('data/nq-open-dev');
const BIN = join(import.meta.dirname, '../../bin/pronto.js');
const run = promisify(execFile);
/** A regression is a drop of more than this many points (3 questions of 332) below the floor. */
const TOLERANCE = 1;
/** Answers may grow this many words on average before the gate calls it padding. */
const WORDS_SLACK = 1;

const skip = nq ? false : '../shared/data/nq-open-dev is absent';
const dir = mkdtempSync(join(tmpdir(), 'pronto-reader-gate-'));
const config = join(dir, 'static.json');
const floor = floors.nq_open_dev;

before(() => {
  if (!skip) writeStaticConfig(config, join(dir, 'data'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test(`pronto eval-answers on NQ-open dev stays within ${TOLERANCE} point of the reader's best_subspan_em floors, at no longer answers`, { skip }, async () => {
  const { stdout } = await run(process.execPath, [BIN, 'eval-answers', nq!, '--config', config], { env: { ...process.env, LOG_LEVEL: 'warn' }, timeout: 1_800_000 });
  const report = JSON.parse(stdout) as { questions: number; best_subspan_em: { answer: number; first_sentence: number }; answer_words: { mean: number } };
  assert.equal(report.questions, 332);
  for (const part of ['answer', 'first_sentence'] as const) {
    const [got, expected] = [report.best_subspan_em[part], floor.best_subspan_em[part]];
    assert.ok(got >= expected - TOLERANCE, `best_subspan_em (${part}) ${got} fell more than ${TOLERANCE} below its floor ${expected}`);
  }
  assert.ok(report.answer_words.mean <= floor.answer_words + WORDS_SLACK, `answers average ${report.answer_words.mean} words, floor ${floor.answer_words}`);
  process.stderr.write(`reader gate: best_subspan_em ${report.best_subspan_em.answer} / ${report.best_subspan_em.first_sentence}, ${report.answer_words.mean} words\n`);
});
