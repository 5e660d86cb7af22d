import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { CallOptions, Embedder } from '../../src/models/types.js';
import { ingestFiles } from '../../src/retrieval/ingest-files.js';
import { modelConfig, startRuntime } from '../models/helpers.js';
import { openRetrieval, signal, type TestRetrieval } from './helpers.js';

let t: TestRetrieval;
before(async () => {
  t = await openRetrieval();
});
after(() => t.cleanup());

function corpus(documents: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-offline-'));
  const lines = Array.from({ length: documents }, (_, i) =>
    JSON.stringify({ id: `d${i}`, text: Array.from({ length: 6 }, (_, s) => `Document ${i} sentence ${s} is here.`).join(' ') }),
  );
  writeFileSync(join(dir, 'corpus.jsonl'), lines.join('\n'));
  return dir;
}

test('offline loaders wait for a busy model at bulk priority instead of being shed (no retry loop needed)', async () => {
  // Interactive work would be refused here: every batch waits far longer than the 5 ms queue timeout.
  const { runtime } = await startRuntime([
    modelConfig({
      name: 'busy',
      role: 'embedder',
      backend: 'sim',
      options: { base_ms: 20, per_item_ms: 0, dimensions: 64 },
      batching: { max_batch_size: 2, queue_timeout_ms: 5, bulk_queue_timeout_ms: 60_000 } as never,
      warmup: { batch_sizes: [1] },
    }),
  ]);
  try {
    const summary = await ingestFiles(t.retrieval, 'public/offline', [corpus(6)], { embedder: runtime.embedder('busy'), signal, batchSize: 3 });
    assert.equal(summary.accepted, 6);
    assert.deepEqual(summary.failed, []);
  } finally {
    await runtime.close();
  }
});

test('a failing embedder fails the loader’s documents once: nothing is retried', async () => {
  let calls = 0;
  const failing: Embedder = {
    name: 'failing',
    role: 'embedder',
    backend: 'test',
    dimensions: 64,
    async embed(_texts: string[], _options: CallOptions) {
      calls++;
      throw Object.assign(new Error('overloaded'), { code: 'overloaded' });
    },
  };
  const summary = await ingestFiles(t.retrieval, 'public/offline-failing', [corpus(2)], { embedder: failing, signal, batchSize: 2 });
  assert.equal(summary.accepted, 0);
  assert.equal(summary.failed.length, 2);
  // Each document's sentences fit one embedding batch; ingest runs two batch workers at most.
  assert.ok(calls <= 2, `the embedder was called ${calls} times`);
});
