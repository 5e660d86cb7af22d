import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../src/core/text/analyzer.js';
import { createPacer } from '../../src/core/pace.js';
import { MAX_CHARS_PER_TOKEN, chunkDocument } from '../../src/retrieval/chunking.js';
import { parseFile, parseJsonl, parseMarkdown } from '../../src/retrieval/parse.js';

test('the analyzer lowercases, drops stop words and stems', () => {
  assert.deepEqual(analyze('The Running dogs, and their 2 HOUSES!'), ['run', 'dog', '2', 'hous']);
  assert.deepEqual(analyze('Überprüfung café'), ['überprüfung', 'café']);
});

test('chunks hold at most max_tokens, overlap, prefer sentence ends and keep the title', async () => {
  const text = Array.from({ length: 30 }, (_, i) => `Sentence ${i} has five words.`).join(' ');
  const chunks = await chunkDocument({ id: 'd', title: 'T', text, metadata: { a: 1 } }, { maxTokens: 32, overlapTokens: 8 });
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
  assert.equal((await chunkDocument({ id: 's', text: 'short text' }, { maxTokens: 32, overlapTokens: 8 })).length, 1);
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

test('a document of one huge word or of long tokens makes bounded chunks, linearly and yielding', async () => {
  const options = { maxTokens: 256, overlapTokens: 32 };
  const limit = options.maxTokens * MAX_CHARS_PER_TOKEN;
  for (const text of ['a'.repeat(1_000_000), `${'u'.repeat(250)} `.repeat(4000)]) {
    let yielded = 0;
    const pace = async () => {
      yielded++;
      await new Promise((r) => setImmediate(r));
    };
    const chunks = await chunkDocument({ id: 'd', text }, options, pace);
    assert.ok(chunks.every((c) => c.text.length <= limit), 'every chunk within maxTokens × MAX_CHARS_PER_TOKEN');
    assert.equal(yielded, chunks.length, 'the pacer is awaited after every chunk');
    const total = chunks.reduce((sum, c) => sum + c.text.length, 0);
    assert.ok(total < text.length * 2, `overlap stays at most half a chunk (${total} chars for ${text.length})`);
    assert.equal(chunks.map((c) => c.text).join('').replaceAll(' ', '').slice(0, 1000), text.replaceAll(' ', '').slice(0, 1000));
  }
});

test('chunking stops with the abort of its request', async () => {
  const controller = new AbortController();
  controller.abort(new Error('client left'));
  await assert.rejects(chunkDocument({ id: 'd', text: 'word '.repeat(100_000) }, { maxTokens: 32, overlapTokens: 0 }, createPacer(controller.signal, 0)), /client left/);
});
