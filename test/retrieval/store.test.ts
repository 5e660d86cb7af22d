import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isProntoError } from '../../src/core/errors.js';
import type { DocumentInput } from '../../src/retrieval/types.js';
import { HashEmbedder, openRetrieval, signal, type TestRetrieval } from './helpers.js';

const embedder = new HashEmbedder();
let t: TestRetrieval;

const DOCS: DocumentInput[] = [
  { id: 'cats', title: 'Cats', text: 'Cats are small carnivorous mammals that purr and hunt mice.', metadata: { year: 2020, kind: 'pet', indoor: true } },
  { id: 'dogs', title: 'Dogs', text: 'Dogs are loyal mammals that bark and fetch sticks.', metadata: { year: 2018, kind: 'pet', indoor: false } },
  { id: 'rust', title: 'Rust', text: 'Rust is a systems programming language with memory safety.', metadata: { year: 2015, kind: 'lang' } },
  { id: 'go', title: 'Go', text: 'Go is a programming language with goroutines and channels.', metadata: { year: 2009, kind: 'lang', tags: ['google'] } },
];

const search = (query: string, extra: Partial<Parameters<typeof t.retrieval.search>[0]> = {}) =>
  t.retrieval.search({ query, namespace: 'acme/docs', topK: 10, mode: 'hybrid', embedder, signal, ...extra });
const docIds = (hits: Array<{ docId: string }>) => hits.map((h) => h.docId).sort();

async function rejects(promise: Promise<unknown>, field: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isProntoError(err), String(err));
    assert.equal(err.code, 'invalid_input');
    assert.equal(err.field, field);
    return true;
  });
}

before(async () => {
  t = await openRetrieval();
  const result = await t.retrieval.ingest('acme/docs', DOCS, { embedder, signal });
  assert.deepEqual(result.failed, []);
});
after(() => t.cleanup());

test('every mode finds a document by its words', async () => {
  for (const mode of ['dense', 'sparse', 'hybrid'] as const) {
    const hits = await search('purring cats', { mode, topK: 1 });
    assert.equal(hits[0]?.docId, 'cats', mode);
    assert.equal(hits[0].title, 'Cats');
    assert.deepEqual(hits[0].metadata, DOCS[0].metadata);
  }
});

test('filters: equality, in, ranges and booleans, in dense and sparse alike', async () => {
  for (const mode of ['dense', 'sparse', 'hybrid'] as const) {
    assert.deepEqual(docIds(await search('mammals programming language', { mode, filter: { kind: 'lang' } })), ['go', 'rust'], mode);
    assert.deepEqual(docIds(await search('mammals programming language', { mode, filter: { year: { gte: 2015, lt: 2020 } } })), ['dogs', 'rust'], mode);
    assert.deepEqual(docIds(await search('mammals programming language', { mode, filter: { doc_id: { in: ['cats', 'go'] } } })), ['cats', 'go'], mode);
    assert.deepEqual(docIds(await search('mammals programming language', { mode, filter: { indoor: false } })), ['dogs'], mode);
    assert.deepEqual(docIds(await search('mammals programming language', { mode, filter: { year: { in: [2009, 2020] } } })), ['cats', 'go'], mode);
    assert.deepEqual(docIds(await search('mammals programming language', { mode, filter: { kind: "pet' OR 1=1 --" } })), [], mode);
  }
});

test('a filter on an unknown field, of the wrong type or malformed is invalid_input naming filter.<field>', async () => {
  await rejects(search('x', { filter: { colour: 'red' } }), 'filter.colour');
  await rejects(search('x', { filter: { year: '2020' } }), 'filter.year');
  await rejects(search('x', { filter: { kind: { gte: 1 } } }), 'filter.kind');
  await rejects(search('x', { filter: { kind: { in: [] } } }), 'filter.kind');
  await rejects(search('x', { filter: { year: { between: [1, 2] } } as never }), 'filter.year');
  await rejects(search('x', { mode: 'sparse', filter: { tags: 'google' } }), 'filter.tags');
});

test('top_k above the configured maximum is invalid_input on top_k', async () => {
  await rejects(search('x', { topK: t.config.retrieval.max_top_k + 1 }), 'top_k');
  await rejects(search('x', { topK: 0 }), 'top_k');
});

test('re-ingesting a document replaces its chunks; deleting removes them from both indexes', async () => {
  const ns = 'acme/upsert';
  const long = Array.from({ length: 600 }, (_, i) => `word${i}`).join(' ');
  await t.retrieval.ingest(ns, [{ id: 'doc', text: long }], { embedder, signal });
  const before = await t.retrieval.store.count(ns);
  assert.ok(before > 1, 'a long document makes several chunks');
  const result = await t.retrieval.ingest(ns, [{ id: 'doc', text: 'zebras graze quietly' }], { embedder, signal });
  assert.deepEqual(result.accepted, [{ id: 'doc', chunks: 1 }]);
  assert.equal(await t.retrieval.store.count(ns), 1);
  for (const mode of ['dense', 'sparse'] as const) {
    const hits = await search('word5 zebras', { namespace: ns, mode });
    assert.deepEqual(hits.map((h) => h.text), ['zebras graze quietly'], mode);
  }
  assert.equal(await t.retrieval.deleteDocument(ns, 'doc'), 1);
  assert.equal(await t.retrieval.deleteDocument(ns, 'doc'), 0);
  assert.deepEqual(await search('zebras', { namespace: ns, mode: 'sparse' }), []);
  assert.deepEqual(await search('zebras', { namespace: ns, mode: 'dense' }), []);
});

test('namespaces are isolated: the same id in two tenants is two documents', async () => {
  await t.retrieval.ingest('tenant-a/default', [{ id: 'same', text: 'alpha secret plans' }], { embedder, signal });
  await t.retrieval.ingest('tenant-b/default', [{ id: 'same', text: 'beta public notes' }], { embedder, signal });
  for (const mode of ['dense', 'sparse', 'hybrid'] as const) {
    const a = await search('alpha secret beta public', { namespace: 'tenant-a/default', mode });
    const b = await search('alpha secret beta public', { namespace: 'tenant-b/default', mode });
    assert.deepEqual(a.map((h) => h.text), ['alpha secret plans'], mode);
    assert.deepEqual(b.map((h) => h.text), ['beta public notes'], mode);
  }
  await t.retrieval.deleteDocument('tenant-a/default', 'same');
  assert.equal((await search('beta', { namespace: 'tenant-b/default', mode: 'sparse' })).length, 1);
  assert.equal(await t.retrieval.namespaceExists('tenant-c/default'), false);
  assert.deepEqual(await search('alpha', { namespace: 'tenant-c/default' }), []);
});

test('a document is searchable as soon as ingest returns (freshness)', async () => {
  for (let i = 0; i < 3; i++) {
    const id = `fresh-${i}`;
    await t.retrieval.ingest('acme/fresh', [{ id, text: `unique${i}token appears here` }], { embedder, signal });
    for (const mode of ['dense', 'sparse'] as const) {
      const hits = await search(`unique${i}token`, { namespace: 'acme/fresh', mode, topK: 1 });
      assert.equal(hits[0]?.docId, id, mode);
    }
  }
});

test('bad documents fail one by one with the reason; the others are kept', async () => {
  const result = await t.retrieval.ingest(
    'acme/bad',
    [
      { id: 'ok-1', text: 'fine text' },
      { id: 'empty', text: '   ' },
      { id: 'surrogate', text: 'broken \uD800 text' },
      { id: 'nul', text: 'a NUL \u0000 byte' },
      { id: 'bad#id', text: 'hash in id' },
      { id: 'ok-1', text: 'duplicate id in one request' },
      { id: 'meta', text: 'nested metadata', metadata: { nested: { a: 1 } } as never },
      { id: 'extra', text: 'unknown field', colour: 'red' } as never,
      { id: 'big', text: 'x'.repeat(t.config.retrieval.max_document_chars + 1) },
      { id: 'ok-2', text: 'also fine, with a replacement character \uFFFD', metadata: { n: 1 } },
      { id: 'type-clash', text: 'n was a number', metadata: { n: 'one' } },
    ],
    { embedder, signal },
  );
  assert.deepEqual(result.accepted.map((a) => a.id), ['ok-1', 'ok-2']);
  assert.deepEqual(
    result.failed.map((f) => [f.index, f.error.field]),
    [
      [1, 'documents[1].text'],
      [2, 'documents[2].text'],
      [3, 'documents[3].text'],
      [4, 'documents[4].id'],
      [5, 'documents[5].id'],
      [6, 'documents[6].metadata.nested'],
      [7, 'documents[7].colour'],
      [8, 'documents[8].text'],
      [10, 'documents[10].metadata.n'],
    ],
  );
  assert.ok(result.failed.every((f) => f.error.code === 'invalid_input' && f.error.message.length > 0));
  assert.equal(await t.retrieval.store.count('acme/bad'), 2);
});

test('an embedder failure fails its documents and keeps earlier ones; an abort rejects', async () => {
  const failing = Object.assign(new HashEmbedder(), {
    async embed(): Promise<Float32Array[]> {
      throw new Error('model crashed');
    },
  });
  const result = await t.retrieval.ingest('acme/fail', [{ id: 'a', text: 'some text' }], { embedder: failing, signal });
  assert.deepEqual(result.accepted, []);
  assert.equal(result.failed[0].error.code, 'upstream_failed');
  const controller = new AbortController();
  controller.abort(new Error('gone'));
  await assert.rejects(t.retrieval.ingest('acme/fail', [{ id: 'b', text: 'x' }], { embedder, signal: controller.signal }));
});

test('the index survives a restart: the store and the rebuilt BM25 index', async () => {
  const reopened = await t.reopen();
  assert.deepEqual((await reopened.store.namespaces()).includes('acme/docs'), true);
  for (const mode of ['dense', 'sparse'] as const) {
    const hits = await reopened.search({ query: 'goroutines channels', namespace: 'acme/docs', topK: 1, mode, embedder, signal });
    assert.equal(hits[0]?.docId, 'go', mode);
  }
  const filtered = await reopened.search({
    query: 'mammals', namespace: 'acme/docs', topK: 5, mode: 'sparse', filter: { year: { gt: 2019 } }, embedder, signal,
  });
  assert.deepEqual(docIds(filtered), ['cats']);
});
