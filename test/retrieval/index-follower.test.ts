import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LocalChangeFeed } from '../../src/retrieval/change-feed.js';
import { IndexFollower } from '../../src/retrieval/index-follower.js';
import { LanceVectorStore } from '../../src/retrieval/lance-store.js';
import { Bm25Index } from '../../src/retrieval/sparse.js';
import type { Chunk } from '../../src/retrieval/types.js';
import { HashEmbedder, signal, silentLogger } from './helpers.js';

/**
 * The follower's poll, driven by hand (no timer): which namespaces it reloads whole. Two
 * "processes" are two stores and followers on one directory, without a change feed between them
 * (`pronto ingest` next to a server, or Redis down).
 */

const embedder = new HashEmbedder();

function replica(dir: string) {
  const store = new LanceVectorStore({ dir, logger: silentLogger, ann: { minRows: 10_000, nprobes: 20, refineFactor: 1 } });
  const sparse = new Bm25Index({ k1: 1.2, b: 0.75, d: 0 }, (namespace) => store.fieldTypes(namespace));
  const follower = new IndexFollower({ store, sparse, feed: new LocalChangeFeed(), pollMs: 0, logger: silentLogger });
  /** Every change this replica's indexes took in, in order: its own writes and its reloads. */
  const changes: string[] = [];
  follower.onChange((change) => changes.push(change.namespace));
  return {
    store,
    sparse,
    follower,
    changes,
    /** What ingest does: the store's commit, BM25, then the announcement. */
    async write(namespace: string, id: string, text: string) {
      const chunk: Chunk = { id: `${id}#0`, docId: id, index: 0, text, metadata: {} };
      await store.upsert(namespace, [chunk], await embedder.embed([text], { signal }));
      await sparse.upsert(namespace, [chunk]);
      await follower.announce(namespace, [id]);
    },
    async found(namespace: string, query: string) {
      return (await sparse.search(query, { namespace, topK: 5, signal })).map((hit) => hit.docId);
    },
    async start() {
      await store.open();
      await follower.start();
    },
    async close() {
      await follower.close();
      await store.close();
    },
  };
}

async function twoReplicas(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-follower-'));
  const one = replica(dir);
  const two = replica(dir);
  await one.start();
  await two.start();
  t.after(async () => {
    await one.close();
    await two.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { one, two };
}

test('a namespace this replica created is not reloaded by its own poll; one another process created is', async (t) => {
  const { one, two } = await twoReplicas(t);
  await one.write('acme/own', 'otters', 'Otters hold hands while sleeping.');
  await one.follower.poll();
  await one.write('acme/own', 'newts', 'Newts regrow lost limbs.');
  await one.follower.poll();
  await one.follower.poll();
  assert.deepEqual(one.changes, ['acme/own', 'acme/own'], 'its two writes, and no reload');
  assert.deepEqual((await one.found('acme/own', 'otters newts')).sort(), ['newts', 'otters']);

  // The fallback stays: replica two never heard of these writes, and finds them by polling.
  await two.follower.poll();
  assert.deepEqual(two.changes, [], 'one poll is the grace');
  await two.follower.poll();
  assert.deepEqual(two.changes, ['acme/own'], 'reloaded on the second');
  assert.deepEqual((await two.found('acme/own', 'otters newts')).sort(), ['newts', 'otters']);

  // Writing into a namespace another process created does not make it this replica's own.
  await two.write('acme/theirs', 'voles', 'Voles dig shallow tunnels.');
  await one.write('acme/theirs', 'moles', 'Moles dig deep tunnels.');
  await one.follower.poll();
  await one.follower.poll();
  assert.deepEqual((await one.found('acme/theirs', 'dig tunnels')).sort(), ['moles', 'voles'], 'reloaded, with the other process\'s document');
});
