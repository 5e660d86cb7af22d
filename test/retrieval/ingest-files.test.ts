import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { progressPayload } from '../../src/cli/ingest.js';
import { ingestFiles } from '../../src/retrieval/ingest-files.js';
import { HashEmbedder, openRetrieval, signal, type TestRetrieval } from './helpers.js';

let t: TestRetrieval;
before(async () => {
  t = await openRetrieval();
});
after(() => t.cleanup());

test('pronto ingest reads a directory of .jsonl, .md and .txt through the shared ingest path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-files-'));
  mkdirSync(join(dir, 'nested'));
  writeFileSync(
    join(dir, 'corpus.jsonl'),
    ['{"_id":"1","title":"Beir","text":"a beir shaped line"}', '{"id":"2","text":"plain shape","metadata":{"lang":"en"}}', '{broken'].join('\n'),
  );
  writeFileSync(join(dir, 'nested', 'guide.md'), '# Guide\nIntro.\n## Install\nRun npm install.\n');
  writeFileSync(join(dir, 'notes.txt'), 'loose notes about installing');
  writeFileSync(join(dir, 'image.png'), 'not a document');
  const progress: Array<[number, number]> = [];
  const summary = await ingestFiles(t.retrieval, 'public/files', [dir], {
    embedder: new HashEmbedder(),
    signal,
    batchSize: 2,
    onProgress: (done, total) => progress.push([done, total]),
  });
  assert.equal(summary.files, 3);
  assert.equal(summary.documents, 5);
  assert.equal(summary.accepted, 5);
  assert.deepEqual(summary.failed.map((f) => f.where), [join(dir, 'corpus.jsonl') + ':3']);
  assert.deepEqual(progress.at(-1), [5, 5]);
  const hits = await t.retrieval.search({ query: 'install', namespace: 'public/files', topK: 5, mode: 'sparse', embedder: new HashEmbedder(), signal });
  assert.deepEqual(hits.map((h) => h.docId).sort(), ['guide/1-install', 'notes']);
  const filtered = await t.retrieval.search({
    query: 'plain', namespace: 'public/files', topK: 5, mode: 'dense', filter: { lang: 'en' }, embedder: new HashEmbedder(), signal,
  });
  assert.deepEqual(filtered.map((h) => h.docId), ['2']);
});

test('progress moves within the first group of documents, as its chunks are embedded', async () => {
  const small = await openRetrieval({ retrieval: { embed_batch_size: 8 } });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'pronto-progress-'));
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `document number ${i} about topic ${i % 7}` }));
    writeFileSync(join(dir, 'many.jsonl'), lines.join('\n'));
    const progress: number[] = [];
    await ingestFiles(small.retrieval, 'public/progress', [dir], { embedder: new HashEmbedder(), signal, onProgress: (done) => progress.push(done) });
    assert.equal(progress[0], 0);
    assert.ok(progress.some((done) => done > 0 && done < 40), `first updates: ${progress.slice(0, 5).join(', ')}`);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'never goes back');
    assert.equal(progress.at(-1), 300);
  } finally {
    await small.cleanup();
  }
});

test('the progress bar prints its own ETA as minutes and seconds', () => {
  assert.deepEqual(progressPayload(10, 100, 5), { speed: '2.0', remaining: '45s' });
  assert.deepEqual(progressPayload(1, 1000, 0.5), { speed: '2.0', remaining: '8m20s' });
  assert.equal(progressPayload(0, 1000, 3).remaining, '…');
});
