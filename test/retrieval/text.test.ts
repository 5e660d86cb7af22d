import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../src/core/text/analyzer.js';
import { chunkDocument } from '../../src/retrieval/chunking.js';
import { parseFile, parseJsonl, parseMarkdown } from '../../src/retrieval/parse.js';

test('the analyzer lowercases, drops stop words and stems', () => {
  assert.deepEqual(analyze('The Running dogs, and their 2 HOUSES!'), ['run', 'dog', '2', 'hous']);
  assert.deepEqual(analyze('Überprüfung café'), ['überprüfung', 'café']);
});

test('chunks hold at most max_tokens, overlap, prefer sentence ends and keep the title', () => {
  const text = Array.from({ length: 30 }, (_, i) => `Sentence ${i} has five words.`).join(' ');
  const chunks = chunkDocument({ id: 'd', title: 'T', text, metadata: { a: 1 } }, { maxTokens: 32, overlapTokens: 8 });
  assert.ok(chunks.length > 4);
  for (const [i, chunk] of chunks.entries()) {
    assert.equal(chunk.id, `d#${i}`);
    assert.equal(chunk.title, 'T');
    assert.deepEqual(chunk.metadata, { a: 1 });
    assert.ok(chunk.text.split(' ').length <= 32);
    if (i < chunks.length - 1) assert.ok(chunk.text.endsWith('.'), chunk.text);
  }
  const first = chunks[0].text.split(' ');
  assert.ok(chunks[1].text.startsWith(first.slice(-8).join(' ')), 'neighbours overlap');
  const all = new Set(chunks.flatMap((c) => c.text.split(' ')));
  for (const word of text.split(' ')) assert.ok(all.has(word));
  assert.equal(chunkDocument({ id: 's', text: 'short text' }, { maxTokens: 32, overlapTokens: 8 }).length, 1);
});

test('jsonl accepts the BEIR and the {id,text,metadata} shapes and reports bad lines', () => {
  const parsed = parseJsonl(
    [
      '{"_id": 12, "title": "T", "text": "beir", "metadata": {}}',
      '{"id": "x", "text": "plain", "metadata": {"k": 1}}',
      'not json',
      '{"text": "no id"}',
      '',
    ].join('\n'),
    'f.jsonl',
  );
  assert.deepEqual(parsed.documents, [
    { id: '12', title: 'T', text: 'beir' },
    { id: 'x', text: 'plain', metadata: { k: 1 } },
  ]);
  assert.deepEqual(parsed.errors.map((e) => e.where), ['f.jsonl:3', 'f.jsonl:4']);
});

test('markdown splits by headings (not inside code fences), titled by document and section', () => {
  const docs = parseMarkdown('# Guide\nIntro text.\n## Setup\nRun it.\n```\n# not a heading\n```\n## Empty\n', 'guide');
  assert.deepEqual(
    docs.map((d) => [d.id, d.title]),
    [
      ['guide/0-guide', 'Guide'],
      ['guide/1-setup', 'Guide — Setup'],
    ],
  );
  assert.ok(docs[1].text.includes('# not a heading'));
});

test('files that are not valid UTF-8 are reported, text files become one document', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-parse-'));
  writeFileSync(join(dir, 'bad.txt'), Buffer.from([0x68, 0x69, 0xff, 0xfe]));
  writeFileSync(join(dir, 'Notes File.txt'), 'hello world');
  assert.match((await parseFile(join(dir, 'bad.txt'))).errors[0].message, /UTF-8/);
  assert.deepEqual((await parseFile(join(dir, 'Notes File.txt'))).documents, [{ id: 'notes-file', text: 'hello world' }]);
});
