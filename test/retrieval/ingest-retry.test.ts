import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Embedder } from '../../src/models/types.js';
import { ingestRetryingShed } from '../../src/retrieval/ingest-retry.js';
import type { Retrieval } from '../../src/retrieval/retrieval.js';
import type { DocumentInput, IngestResult } from '../../src/retrieval/types.js';

const DOCS: DocumentInput[] = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, text: `document ${id}` }));
const shed = (id: string, index: number, code = 'overloaded') => ({ id, index, error: { code, message: 'busy' } });

/** A retrieval whose ingest answers from a script, one entry per call, recording what it was sent. */
function scripted(script: Array<(docs: DocumentInput[]) => IngestResult>) {
  const calls: string[][] = [];
  const retrieval = {
    ingest: async (_namespace: string, documents: DocumentInput[]) => {
      calls.push(documents.map((d) => d.id));
      return script[calls.length - 1](documents);
    },
  } as unknown as Retrieval;
  return { retrieval, calls };
}

const options = { embedder: {} as Embedder, signal: new AbortController().signal, attempts: 3, backoffMs: 1 };

test('documents the model runtime shed are sent again; invalid ones are reported at their own index', async () => {
  const { retrieval, calls } = scripted([
    () => ({
      accepted: [{ id: 'e', chunks: 1 }],
      failed: [shed('a', 0), shed('b', 1, 'queue_full'), { id: 'c', index: 2, error: { code: 'invalid_input', message: 'bad', field: 'text' } }, shed('d', 3)],
    }),
    // Second pass: [a, b, d]; d (index 2 of this call) is shed again.
    () => ({ accepted: [{ id: 'a', chunks: 1 }, { id: 'b', chunks: 1 }], failed: [shed('d', 2)] }),
    () => ({ accepted: [{ id: 'd', chunks: 2 }], failed: [] }),
  ]);
  const retried: string[][] = [];
  const result = await ingestRetryingShed(retrieval, 'ns', DOCS, { ...options, onRetry: (ids) => retried.push(ids) });
  assert.deepEqual(calls, [['a', 'b', 'c', 'd', 'e'], ['a', 'b', 'd'], ['d']]);
  assert.deepEqual(retried, [['a', 'b', 'd'], ['d']]);
  assert.deepEqual(result.accepted.map((a) => a.id).sort(), ['a', 'b', 'd', 'e']);
  assert.deepEqual(result.failed.map((f) => [f.id, f.index, f.error.code]), [['c', 2, 'invalid_input']]);
});

test('after the last attempt a shed document is reported failed with its original index', async () => {
  const { retrieval, calls } = scripted([
    () => ({ accepted: [], failed: [shed('a', 0), shed('b', 1), shed('c', 2), shed('d', 3), shed('e', 4)] }),
    (docs) => ({ accepted: [], failed: docs.map((d, i) => shed(d.id, i)) }),
    (docs) => ({ accepted: docs.slice(1).map((d) => ({ id: d.id, chunks: 1 })), failed: [shed(docs[0].id, 0)] }),
  ]);
  const result = await ingestRetryingShed(retrieval, 'ns', DOCS, options);
  assert.equal(calls.length, 3);
  assert.deepEqual(result.failed.map((f) => [f.id, f.index]), [['a', 0]]);
  assert.equal(result.accepted.length, 4);
});
