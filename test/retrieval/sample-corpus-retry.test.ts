import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Embedder } from '../../src/models/types.js';
import type { Retrieval } from '../../src/retrieval/retrieval.js';
import { ensureSampleCorpus } from '../../src/retrieval/sample-corpus.js';
import type { DocumentInput } from '../../src/retrieval/types.js';

test('documents the model runtime shed are retried; invalid ones are not', async () => {
  const calls: string[][] = [];
  let sawEmpty = false;
  const retrieval = {
    namespaceExists: async () => false,
    ingest: async (_namespace: string, documents: DocumentInput[]) => {
      calls.push(documents.map((d) => d.id));
      if (calls.length === 1) {
        // First pass: the first two are shed by admission, the third is invalid for good.
        const [a, b, c, ...rest] = documents;
        return {
          accepted: rest.map((d) => ({ id: d.id, chunks: 1 })),
          failed: [
            { id: a.id, index: 0, error: { code: 'overloaded', message: 'busy' } },
            { id: b.id, index: 1, error: { code: 'queue_full', message: 'busy' } },
            { id: c.id, index: 2, error: { code: 'invalid_input', message: 'bad', field: 'text' } },
          ],
        };
      }
      sawEmpty ||= documents.length === 0;
      return { accepted: documents.map((d) => ({ id: d.id, chunks: 1 })), failed: [] };
    },
  } as unknown as Retrieval;
  const accepted = await ensureSampleCorpus(retrieval, {} as Embedder, 'public/default', pino({ level: 'silent' }));
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[1], calls[0].slice(0, 2), 'only the shed documents are sent again');
  assert.equal(accepted, calls[0].length - 1, 'everything but the invalid one');
  assert.equal(sawEmpty, false);
});
