import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalize } from '../../src/core/vectors.js';
import { ExactIndex } from '../../src/retrieval/exact-index.js';
import type { Chunk } from '../../src/retrieval/types.js';

const chunk = (docId: string, index: number): Chunk => ({ id: `${docId}#${index}`, docId, index, text: `${docId} ${index}`, metadata: {} });
const vector = (seed: number) => normalize(Array.from({ length: 8 }, (_, i) => Math.sin(seed * 7 + i * 3)));

test('deletes and re-ingests keep every remaining chunk paired with its own vector', () => {
  const index = new ExactIndex();
  const expected = new Map<string, Float32Array>();
  const put = (docId: string, chunks: number, seed: number) => {
    const cs = Array.from({ length: chunks }, (_, i) => chunk(docId, i));
    const vs = cs.map((_, i) => vector(seed + i));
    for (const id of [...expected.keys()].filter((id) => id.startsWith(`${docId}#`))) expected.delete(id);
    cs.forEach((c, i) => expected.set(c.id, vs[i]));
    index.upsert('ns', cs, vs);
  };
  put('a', 2, 1);
  put('b', 3, 10);
  put('c', 1, 20);
  put('d', 2, 30);
  index.deleteDocument('ns', 'b'); // frees slots in the middle: later rows move into them
  for (const id of ['b#0', 'b#1', 'b#2']) expected.delete(id);
  put('a', 1, 40); // a re-ingested document with fewer chunks
  put('e', 2, 50);

  for (let seed = 0; seed < 10; seed++) {
    const query = vector(100 + seed);
    const hits = index.search('ns', query, 100);
    const brute = [...expected].map(([id, v]) => [id, v.reduce((s, x, i) => s + x * query[i], 0)] as const).sort((x, y) => y[1] - x[1]);
    assert.deepEqual(
      hits.map((h) => h.id),
      brute.map(([id]) => id),
    );
    hits.forEach((h, i) => assert.ok(Math.abs(h.score - brute[i][1]) < 1e-5));
  }
});
