import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRequestLog, inSample, readRequestLog } from '../../src/observability/request-log.js';
import { loadBeir } from '../../src/retrieval/eval/beir.js';
import type { RequestSummary } from '../../src/observability/recent-requests.js';

const summary = (id: string, at = Date.now()): RequestSummary => ({
  request_id: id,
  at,
  tenant: 'public',
  method: 'POST',
  route: '/v1/infer',
  status: 200,
  latency_ms: 12.5,
  timings: { sanitize: 0.1, embed: 3 },
  degraded: [],
});

test('the request log samples by request id, rotates by size, and exports with feedback joined', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-request-log-'));
  try {
    const options = { dir, sampleRate: 0.5, maxFileBytes: 2048, maxFiles: 3, redact: (text: string) => text.replaceAll('secret', '[X]'), onError: (err: unknown) => assert.fail(String(err)) };
    const log = createRequestLog(options);
    for (let i = 0; i < 60; i++) log.record(summary(`r${i}`), { input: `question ${i} secret`, retrieved: [{ id: 'doc-1#0', doc_id: 'doc-1', score: 0.5 }], output: `answer ${i}` });
    log.record(summary('no-input'), {});
    await log.flush();
    const sampled = Array.from({ length: 60 }, (_, i) => `r${i}`).filter((id) => inSample(id, 0.5));
    const [last, previous] = [sampled.at(-1)!, sampled.at(-2)!];
    const unsampled = Array.from({ length: 60 }, (_, i) => `r${i}`).find((id) => !inSample(id, 0.5))!;
    // Feedback arrives after a restart: a new log over the same directory still knows the sample.
    const restarted = createRequestLog(options);
    restarted.feedback({ request_id: last, tenant: 'public', rating: 1, comment: 'good secret', at: new Date().toISOString() });
    restarted.feedback({ request_id: unsampled, tenant: 'public', rating: -1, at: new Date().toISOString() });
    await restarted.flush();

    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ['requests.1.jsonl', 'requests.2.jsonl', 'requests.jsonl'], 'rotated, keeping max_files');
    for (const file of files) assert.ok(readFileSync(join(dir, file)).length <= 2048);
    const text = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    assert.doesNotMatch(text, /secret/, 'text is redacted again on the way out');
    assert.ok(!text.includes(`"request_id":"${unsampled}"`), 'nothing of a request outside the sample, feedback included');

    const all = await readRequestLog(dir, { since: new Date(0), withFeedback: true });
    const ids = all.map((r) => r.request_id);
    assert.ok(ids.every((id) => sampled.includes(id)), 'only the sampled requests');
    assert.deepEqual(ids, [...ids].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))), 'oldest first');
    assert.deepEqual(ids.slice(-2), [previous, last], 'the newest survive rotation');
    assert.deepEqual(all.at(-1)?.feedback?.map((f) => [f.rating, f.comment]), [[1, 'good [X]']]);
    assert.equal(all.at(-1)?.input, `question ${last.slice(1)} [X]`);
    assert.deepEqual(all.at(-1)?.retrieved, [{ id: 'doc-1#0', doc_id: 'doc-1', score: 0.5 }]);
    assert.equal((await readRequestLog(dir, { since: new Date(Date.now() + 60_000), withFeedback: false })).length, 0, '--since filters');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lines recorded within 100 ms wait and go to the file together; flush writes them at once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-request-log-'));
  t.mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const log = createRequestLog({ dir, sampleRate: 1, maxFileBytes: 1 << 20, maxFiles: 2, redact: (text) => text, onError: (err) => assert.fail(String(err)) });
    const live = join(dir, 'requests.jsonl');
    const lines = () => readFileSync(live, 'utf8').trim().split('\n');
    log.record(summary('b1'), { input: 'one' });
    log.record(summary('b2'), { input: 'two' });
    t.mock.timers.tick(99);
    // Real time for a write under way to land (the timers are mocked, the clock and I/O are not).
    const until = performance.now() + 50;
    while (performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(readdirSync(dir), [], 'nothing is written before the batch is due');
    t.mock.timers.tick(1);
    await log.flush();
    assert.deepEqual(lines().map((line) => JSON.parse(line).request_id), ['b1', 'b2']);
    log.record(summary('b3'), { input: 'three' });
    await log.flush();
    assert.equal(lines().length, 3, 'flush does not wait for the batch to be due');
  } finally {
    t.mock.timers.reset();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the sample holds about its rate of requests, and none or all at 0 and 1', () => {
  const ids = Array.from({ length: 4000 }, (_, i) => `req-${i}`);
  const share = (rate: number) => ids.filter((id) => inSample(id, rate)).length / ids.length;
  assert.ok(Math.abs(share(0.1) - 0.1) < 0.02, `rate 0.1 sampled ${share(0.1)}`);
  assert.ok(Math.abs(share(0.5) - 0.5) < 0.03, `rate 0.5 sampled ${share(0.5)}`);
  assert.equal(share(0), 0);
  assert.equal(share(1), 1);
});

test('pronto export-log prints the records as JSONL and refuses a bad --since', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pronto-export-'));
  try {
    const log = createRequestLog({ dir: join(dataDir, 'request-log'), sampleRate: 1, maxFileBytes: 1 << 20, maxFiles: 2, redact: (t) => t, onError: (err) => assert.fail(String(err)) });
    log.record(summary('old', Date.parse('2026-01-01T00:00:00Z')), { input: 'old question' });
    log.record(summary('new', Date.parse('2026-12-02T00:00:00Z')), { input: 'new question', output: 'an answer' });
    log.feedback({ request_id: 'new', tenant: 'public', rating: 5, at: '2026-12-02T00:01:00Z' });
    await log.flush();
    const env = { ...process.env, PRONTO_DATA_DIR: dataDir, PRONTO_CONFIG: '' };
    const run = spawnSync(process.execPath, ['bin/pronto.js', 'export-log', '--since', '2026-12-01', '--with-feedback'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((r) => r.request_id), ['new']);
    assert.equal(lines[0].output, 'an answer');
    assert.deepEqual(lines[0].feedback, [{ at: '2026-12-02T00:01:00Z', rating: 5 }]);

    const bad = spawnSync(process.execPath, ['bin/pronto.js', 'export-log', '--since', 'yesterday'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--since.*ISO 8601/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('pronto export-log --beir turns positive feedback into judgements pronto eval reads', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pronto-export-beir-'));
  try {
    const log = createRequestLog({ dir: join(dataDir, 'request-log'), sampleRate: 1, maxFileBytes: 1 << 20, maxFiles: 2, redact: (t) => t, onError: (err) => assert.fail(String(err)) });
    const hits = [
      { id: 'd1#0', doc_id: 'd1', score: 0.9 },
      { id: 'd2#3', doc_id: 'd2', score: 0.8 },
      { id: 'd3#1', doc_id: 'd3', score: 0.7 },
    ];
    const at = (id: string) => ({ request_id: id, tenant: 'public', at: '2026-12-02T00:01:00Z' });
    log.record(summary('cited'), { input: 'which otters hold hands', retrieved: hits, output: 'They do [2][3].', cited: ['d2#3', 'd3#1'] });
    log.record(summary('search'), { input: 'otters', retrieved: hits });
    log.record(summary('disliked'), { input: 'bad answer', retrieved: hits, output: 'No [1].', cited: ['d1#0'] });
    log.record(summary('changed'), { input: 'first liked, then not', retrieved: hits, output: 'x [1].', cited: ['d1#0'] });
    log.record(summary('unrated'), { input: 'nobody rated', retrieved: hits, output: 'y [1].', cited: ['d1#0'] });
    log.feedback({ ...at('cited'), rating: 5 });
    log.feedback({ ...at('search'), rating: 1 });
    log.feedback({ ...at('disliked'), rating: -1 });
    log.feedback({ ...at('changed'), rating: 1 });
    log.feedback({ ...at('changed'), rating: 2 });
    await log.flush();
    const out = join(dataDir, 'judged');
    const env = { ...process.env, PRONTO_DATA_DIR: dataDir, PRONTO_CONFIG: '' };
    const run = spawnSync(process.execPath, ['bin/pronto.js', 'export-log', '--since', '2026-01-01', '--beir', out], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { dir: out, queries: 2, judgements: 3 });

    // The corpus is the operator's own (never in the log): with it beside, `pronto eval` reads the set.
    writeFileSync(join(out, 'corpus.jsonl'), ['d1', 'd2', 'd3'].map((id) => JSON.stringify({ _id: id, text: `document ${id}` }) + '\n').join(''));
    const dataset = await loadBeir(out, 'test');
    assert.deepEqual(dataset.queries, [
      { id: 'cited', text: 'which otters hold hands' },
      { id: 'search', text: 'otters' },
    ]);
    assert.deepEqual([...dataset.qrels.get('cited')!.entries()], [['d2', 1], ['d3', 1]], 'the documents the answer cited');
    assert.deepEqual([...dataset.qrels.get('search')!.entries()], [['d1', 1]], 'a search: its top document');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
