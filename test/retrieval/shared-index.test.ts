import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import type { Retrieval } from '../../src/retrieval/retrieval.js';
import { connectRedisOrSkip } from '../support/redis.js';
import { HashEmbedder, openRetrieval, signal } from './helpers.js';

/**
 * Replicas sharing one store: what one writes, the others serve, through the change feed on Redis
 * and, without it, through the poll of table versions. Waits are on the follower's own event
 * ("this replica's indexes hold the change"), never on a clock.
 */

const embedder = new HashEmbedder();
const NS = 'acme/shared';

const found = async (r: Retrieval, query: string, mode: 'dense' | 'sparse') =>
  (await r.search({ query, namespace: NS, topK: 5, mode, embedder, signal })).map((hit) => hit.docId);

/** Resolves when `r` has taken in a change of `namespace` that reached at least `version`. */
function applied(r: Retrieval, namespace: string, version: number): Promise<void> {
  return new Promise((resolve) => {
    const stop = r.onChange((change) => {
      if (change.namespace === namespace && change.version >= version) {
        stop();
        resolve();
      }
    });
  });
}

async function sharedPair(t: TestContext) {
  const redis = await connectRedisOrSkip(t);
  if (!redis) return undefined;
  const prefix = `test-shared-${randomUUID()}`;
  const one = await openRetrieval({ retrieval: { follow: { poll_ms: 0 } } }, { redis, prefix });
  const two = await one.reopen();
  t.after(async () => {
    await one.cleanup();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  return { one: one.retrieval, two, reopen: () => one.reopen() };
}

test('a document written by one replica is served by another, dense and sparse, and its delete too', async (t) => {
  const pair = await sharedPair(t);
  if (!pair) return;
  const { one, two } = pair;
  const heard = applied(two, NS, 1);
  await one.ingest(NS, [{ id: 'otters', text: 'Otters float on their backs and hold hands while sleeping.' }], { embedder, signal });
  await heard;
  assert.deepEqual(await found(two, 'otters sleeping', 'sparse'), ['otters']);
  assert.deepEqual(await found(two, 'otters sleeping', 'dense'), ['otters']);
  assert.equal(await two.indexVersion(NS), 1, 'one version, shared');
  assert.equal(two.heldVersion(NS), 1, "and the one its indexes hold (what the results cache's stores are gated by)");

  const replaced = applied(two, NS, 2);
  await one.ingest(NS, [{ id: 'otters', text: 'Sea otters use stones as tools to crack shells.' }], { embedder, signal });
  await replaced;
  assert.deepEqual(await found(two, 'sleeping hands', 'sparse'), [], 'the old version is gone');
  assert.deepEqual(await found(two, 'stones tools shells', 'sparse'), ['otters']);

  const deleted = applied(two, NS, 3);
  assert.equal(await one.deleteDocument(NS, 'otters'), 1);
  await deleted;
  assert.deepEqual(await found(two, 'stones tools shells', 'sparse'), []);
  assert.deepEqual(await found(two, 'stones tools shells', 'dense'), []);
  assert.equal(await one.indexVersion(NS), 3);
  const started = await pair.reopen();
  assert.equal(started.heldVersion(NS), 3, 'a replica started over the store holds the version it was built at');
});

test("without a change feed, a replica finds another process's write by polling table versions", async (t) => {
  const one = await openRetrieval({ retrieval: { follow: { poll_ms: 20 } } });
  t.after(() => one.cleanup());
  const two = await one.reopen();
  await one.retrieval.ingest(NS, [{ id: 'newts', text: 'Newts regrow lost limbs and parts of their eyes.' }], { embedder, signal });
  // Each poll that finds the namespace behind twice reloads it (the empty table's creation may be
  // the first one found): wait, change by change, until a reload holds the document. The poll's
  // timer does not keep a process alive; this wait does.
  const keepAlive = setInterval(() => undefined, 1000);
  for (let reloads = 0; reloads < 5; reloads++) {
    const next = applied(two, NS, 0);
    if ((await found(two, 'newts regrow limbs', 'sparse')).length > 0) break;
    await next;
  }
  clearInterval(keepAlive);
  assert.deepEqual(await found(two, 'newts regrow limbs', 'sparse'), ['newts']);
  assert.deepEqual(await found(two, 'newts regrow limbs', 'dense'), ['newts']);
});
