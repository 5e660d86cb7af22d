import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import { Bool, Field, Schema } from 'apache-arrow';
import { metadataColumn } from '../../src/retrieval/filter.js';
import { baseSchema } from '../../src/retrieval/lance-store.js';
import { tableName } from '../../src/retrieval/namespace.js';
import type { Metadata, SearchMode } from '../../src/retrieval/types.js';
import { HashEmbedder, openRetrieval, signal, type TestRetrieval } from './helpers.js';

const embedder = new HashEmbedder(16);
const opened: TestRetrieval[] = [];
after(async () => {
  for (const t of opened) await t.cleanup();
});

async function ids(t: TestRetrieval, filter: Record<string, unknown>, mode: SearchMode): Promise<string[]> {
  const hits = await t.retrieval.search({ query: 'otters rivers', namespace: 'acme/b', topK: 10, mode, filter: filter as never, embedder, signal });
  return hits.map((h) => h.docId).sort();
}

async function ingestOneByOne(t: TestRetrieval, docs: Array<{ id: string; metadata: Metadata }>): Promise<void> {
  for (const doc of docs) {
    const result = await t.retrieval.ingest('acme/b', [{ ...doc, text: `otters live by rivers ${doc.id}` }], { embedder, signal });
    assert.deepEqual(result.failed, [], `${doc.id}: ${JSON.stringify(result.failed)}`);
  }
}

test('a namespace that holds a boolean field takes documents without it, one at a time, and filters on it', async () => {
  const t = await openRetrieval();
  opened.push(t);
  // Each write is its own batch: 'plain' and 'none' carry the field as all-null (LanceDB refused those).
  await ingestOneByOne(t, [
    { id: 'yes', metadata: { wet: true } },
    { id: 'plain', metadata: {} },
    { id: 'no', metadata: { wet: false } },
    { id: 'none', metadata: { other: 'x' } },
  ]);
  for (const mode of ['dense', 'sparse'] as const) {
    assert.deepEqual(await ids(t, { wet: true }, mode), ['yes'], mode);
    assert.deepEqual(await ids(t, { wet: false }, mode), ['no'], mode);
    assert.deepEqual(await ids(t, { wet: { in: [true, false] } }, mode), ['no', 'yes'], mode);
  }
  // The same filter as SQL inside LanceDB (what an ANN-indexed namespace runs).
  const table = await lancedb.connect(join(t.dir, 'lancedb')).then((db) => db.openTable(tableName('acme/b')));
  assert.equal(await table.countRows(`CAST(${metadataColumn('wet')} AS BOOLEAN) = true`), 1);
  // A re-ingest that drops the field clears it.
  await ingestOneByOne(t, [{ id: 'yes', metadata: {} }]);
  assert.deepEqual(await ids(t, { wet: true }, 'dense'), []);
});

/** Where a crash can stop the three-commit migration, and the table it leaves. */
const CRASHES: Record<string, (table: lancedb.Table, wet: string) => Promise<void>> = {
  'not started': async () => {},
  'after the TINYINT copy was added': async (table, wet) => {
    await table.addColumns([{ name: `${wet}_tinyint`, valueSql: `CAST(${wet} AS TINYINT)` }]);
  },
  'after the Bool column was dropped': async (table, wet) => {
    await table.addColumns([{ name: `${wet}_tinyint`, valueSql: `CAST(${wet} AS TINYINT)` }]);
    await table.dropColumns([wet]);
  },
};

for (const [crash, leave] of Object.entries(CRASHES)) {
  test(`a table written with Bool columns (before TINYINT) is migrated by its next write, values kept (migration ${crash})`, async () => {
    const t = await openRetrieval();
    opened.push(t);
    await t.retrieval.close();
    const db = await lancedb.connect(join(t.dir, 'lancedb'));
    const wet = metadataColumn('wet');
    // The table as pronto wrote it before booleans were TINYINT: its base columns and a Bool one.
    const base = baseSchema(16, t.config.pipeline.embedder);
    const schema = new Schema([...base.fields, new Field(wet, new Bool(), true)], base.metadata);
    const [vector] = await embedder.embed(['otters live by rivers old'], { signal });
    const rows = [true, false].map((value) => ({ id: `old-${value}#0`, doc_id: `old-${value}`, idx: 0, text: 'otters live by rivers', title: null, metadata: JSON.stringify({ wet: value }), vector: Array.from(vector), [wet]: value }));
    const table = await db.createTable(tableName('acme/b'), lancedb.makeArrowTable(rows, { schema }));
    assert.equal(String((await table.schema()).fields.at(-1)!.type), 'Bool');
    await leave(table, wet);

    const reopened = await t.reopen();
    const again: TestRetrieval = { ...t, retrieval: reopened };
    // Between the drop and the rename (two commits, milliseconds apart) the field is unknown to filters until a write.
    if (crash !== 'after the Bool column was dropped') assert.deepEqual(await ids(again, { wet: true }, 'dense'), ['old-true'], 'the field still filters before the write');
    const result = await reopened.ingest('acme/b', [{ id: 'plain', text: 'otters live by rivers plain', metadata: {} }], { embedder, signal });
    assert.deepEqual(result.failed, []);
    await table.checkoutLatest();
    const fields = (await table.schema()).fields;
    assert.equal(String(fields.find((f) => f.name === wet)!.type), 'Int8');
    assert.equal(fields.find((f) => f.name.endsWith('_tinyint')), undefined, 'no staging column is left');
    assert.equal(await table.countRows(`CAST(${wet} AS BOOLEAN) = true`), 1);
    assert.equal(await table.countRows(`CAST(${wet} AS BOOLEAN) = false`), 1);
    assert.equal(await table.countRows(`${wet} IS NULL`), 1);
  });
}
