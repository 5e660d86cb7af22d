import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { TieredCache, jsonCodec } from '../../src/core/cache.js';
import { createRequestContext } from '../../src/pipeline/context.js';
import { createResultCache, type CachedResult, type CachedSearch, type ResultVersions } from '../../src/pipeline/result-cache.js';

/**
 * The results cache keys by retrieval's index version (shared by replicas) and stores only what a
 * replica computed from indexes that hold that version. The versions here are a replica's as
 * retrieval reports them; the cross-replica behaviour over the real Redis is in
 * test/server/result-cache.test.ts.
 */
function replica(versions: { shared: number | undefined; held: number }) {
  const report: ResultVersions = { indexVersion: async () => versions.shared, heldVersion: () => versions.held };
  const cache = new TieredCache<CachedResult>({ name: 'results', memoryBytes: 1 << 20, ttlMs: 60_000, codec: jsonCodec<CachedResult>() });
  return createResultCache({ cache, versions: report });
}

const ctx = () => createRequestContext({ logger: pino({ level: 'silent' }), tenant: 't', deadlineMs: 5000 });
const RESULT: CachedSearch = { kind: 'search', query: 'q', hits: [] };

test('a result is stored under the index version and found again until the version moves on', async () => {
  const versions = { shared: 3, held: 3 };
  const results = replica(versions);
  (await results.lookup<CachedSearch>(ctx(), 'search', 'ns', { q: 1 })).fill(RESULT);
  assert.deepEqual((await results.lookup<CachedSearch>(ctx(), 'search', 'ns', { q: 1 })).cached, RESULT);
  versions.shared = versions.held = 4; // a write, taken in
  assert.equal((await results.lookup<CachedSearch>(ctx(), 'search', 'ns', { q: 1 })).cached, undefined);
});

test("a replica whose indexes lag the shared version does not store what it computed under that version", async () => {
  const versions = { shared: 5, held: 4 };
  const results = replica(versions);
  const behind = ctx();
  (await results.lookup<CachedSearch>(behind, 'search', 'ns', { q: 1 })).fill(RESULT);
  assert.deepEqual(behind.cache, { hit: false });
  versions.held = 5; // it took the write in: its own earlier result was of the older documents
  assert.equal((await results.lookup<CachedSearch>(ctx(), 'search', 'ns', { q: 1 })).cached, undefined);
});

test('an unknown shared version (Redis down): nothing is served or stored', async () => {
  const versions: { shared: number | undefined; held: number } = { shared: 2, held: 2 };
  const results = replica(versions);
  (await results.lookup<CachedSearch>(ctx(), 'search', 'ns', { q: 1 })).fill(RESULT);
  versions.shared = undefined;
  assert.equal((await results.lookup<CachedSearch>(ctx(), 'search', 'ns', { q: 1 })).cached, undefined);
});
