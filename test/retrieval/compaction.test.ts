import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { LanceVectorStore } from '../../src/retrieval/lance-store.js';
import type { Chunk } from '../../src/retrieval/types.js';
import { HashEmbedder, signal } from './helpers.js';

const embedder = new HashEmbedder();

/**
 * Two replicas writing one namespace on a shared directory (retrieval.writers: many), each
 * compacting after every write. A compaction that loses to the other replica's commit (LanceDB's
 * retryable "Rewrite transaction was preempted by concurrent transaction Update") used to fail
 * the write that triggered it, after that write had committed: the soak's upserts answered 502
 * and its deletes 500.
 */
test('a compaction preempted by another replica\'s commit does not fail the write that ran it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-compaction-'));
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  const replicas = [0, 1].map(() => new LanceVectorStore({ dir, logger, optimizeEvery: 1, ann: { minRows: 10_000, nprobes: 20, refineFactor: 1 } }));
  t.after(async () => {
    await Promise.all(replicas.map((store) => store.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  for (const store of replicas) await store.open();
  const write = async (store: LanceVectorStore, id: string) => {
    const chunk: Chunk = { id: `${id}#0`, docId: id, index: 0, text: `document ${id}`, metadata: {} };
    await store.upsert('ns', [chunk], await embedder.embed([chunk.text], { signal }));
  };
  await write(replicas[0], 'seed');

  const failures: string[] = [];
  await Promise.all(
    replicas.map(async (store, r) => {
      for (let i = 0; i < 25; i++) {
        const id = `r${r}d${i % 5}`;
        await write(store, id).catch((err: Error) => failures.push(`upsert: ${err.message}`));
        if (i % 4 === 3) await store.deleteDocument('ns', id).catch((err: Error) => failures.push(`delete: ${err.message}`));
      }
    }),
  );
  assert.deepEqual(failures, []);
  // Every replica's writes are in, whatever its compactions did.
  await replicas[0].reload('ns');
  assert.ok((await replicas[0].count('ns')) >= 1);
  t.diagnostic(`compactions that lost to the other replica (logged, retried after the next write): ${warnings.length}`);
});
