import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
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
