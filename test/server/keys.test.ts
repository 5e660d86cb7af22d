import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ApiKeyRecord } from '../../src/config/auth.js';
import { createKey, hashKey } from '../../src/config/keys.js';
import { startTestServer, type TestServer } from '../support/server.js';

const as = (key: string) => ({ authorization: `Bearer ${key}` });

/** Polls until `check` holds (a file watch reports when the kernel tells it), at most `ms`. */
async function eventually(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('API keys: hashed records, routes, namespaces and the operator role', () => {
  const full = createKey({ tenant: 'keys-a', id: 'a-full' });
  const searchOnly = createKey({ tenant: 'keys-a', id: 'a-search', routes: ['/v1/search'], namespaces: ['docs*'] });
  const operator = createKey({ tenant: 'ops', id: 'ops', role: 'operator' });
  const docsOnly = createKey({ tenant: 'keys-j', namespaces: ['docs'] });
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ auth: { keys: [full.record, searchOnly.record, operator.record, docsOnly.record] } });
  });
  after(() => server.close());

  test('only the SHA-256 of a key is configured, and the key itself opens the door', async () => {
    assert.equal(full.record.sha256, hashKey(full.key));
    assert.ok(!JSON.stringify(server.runtime.config).includes(full.key), 'the key is nowhere in the config');
    assert.equal((await server.post('/v1/search', { query: 'q' }, as(full.key))).status, 200);
    assert.equal((await server.post('/v1/search', { query: 'q' }, { 'x-api-key': full.key })).status, 200);
    const wrong = await server.post('/v1/search', { query: 'q' }, as(full.record.sha256));
    assert.equal(wrong.status, 401, 'the hash is not a key');
  });

  test('a key limited to some routes gets 403 forbidden_route naming the route it was refused', async () => {
    assert.equal((await server.post('/v1/search', { query: 'q', namespace: 'docs-1' }, as(searchOnly.key))).status, 404, 'allowed: an unknown namespace');
    const refused = await server.post('/v1/infer', { text: 'q' }, as(searchOnly.key));
    assert.equal(refused.status, 403);
    const { error } = await refused.json();
    assert.equal(error.code, 'forbidden_route');
    assert.equal(error.route, '/v1/infer');
    assert.match(error.message, /a-search/);
  });

  test('a key limited to some namespaces gets 403 forbidden_namespace for the others, jobs included', async () => {
    const refused = await server.post('/v1/search', { query: 'q', namespace: 'private' }, as(searchOnly.key));
    assert.equal(refused.status, 403);
    const { error } = await refused.json();
    assert.equal(error.code, 'forbidden_namespace');
    assert.equal(error.field, 'namespace');
    const defaulted = await server.post('/v1/search', { query: 'q' }, as(searchOnly.key));
    assert.equal(defaulted.status, 403, 'the default namespace is a namespace too');

    const job = await server.post('/v1/jobs', { kind: 'infer', input: { text: 'q', namespace: 'private' } }, as(docsOnly.key));
    assert.equal(job.status, 403, 'refused when submitted: the worker only knows the tenant');
    assert.equal((await job.json()).error.code, 'forbidden_namespace');
    const ingest = await server.post('/v1/documents', { namespace: 'private', documents: [{ id: 'd', text: 'x' }] }, as(docsOnly.key));
    assert.equal(ingest.status, 403);
    const allowed = await server.post('/v1/documents', { namespace: 'docs', documents: [{ id: 'd', text: 'Allowed text.' }] }, as(docsOnly.key));
    assert.equal(allowed.status, 200);
  });

  test("the dashboard's aggregates (every tenant's traffic) need an operator's key", async () => {
    const tenant = await fetch(`${server.url}/stats`, { headers: as(full.key) });
    assert.equal(tenant.status, 403);
    assert.equal((await tenant.json()).error.code, 'operator_required');
    const ops = await fetch(`${server.url}/stats`, { headers: as(operator.key) });
    assert.equal(ops.status, 200);
    assert.equal((await ops.json()).auth, true);
    assert.equal((await fetch(`${server.url}/stats/requests`, { headers: as(full.key) })).status, 200, "a tenant's own requests need any key");
  });
});

describe('the keys file is reloaded without a restart', () => {
  let dir: string;
  let server: TestServer;
  const first = createKey({ tenant: 'reload-a', id: 'first' });
  const second = createKey({ tenant: 'reload-b', id: 'second' });
  const writeKeys = (records: ApiKeyRecord[] | string) => {
    // As config management does: a new file renamed over the old one.
    writeFileSync(join(dir, 'keys.next'), typeof records === 'string' ? records : JSON.stringify(records));
    renameSync(join(dir, 'keys.next'), join(dir, 'keys.json'));
  };
  const status = async (key: string) => (await server.post('/v1/search', { query: 'q' }, as(key))).status;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pronto-keys-'));
    writeKeys([first.record]);
    server = await startTestServer({ auth: { keys_file: join(dir, 'keys.json') } });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a key added to the file works once the file changes; a removed one stops', async () => {
    assert.equal(await status(first.key), 200);
    assert.equal(await status(second.key), 401);
    writeKeys([second.record]);
    await eventually(async () => (await status(second.key)) === 200, 'the added key is accepted');
    assert.equal(await status(first.key), 401, 'the removed key is refused');
  });

  test('a bad keys file is refused whole and the keys in force stay', async () => {
    writeKeys([second.record]);
    await eventually(async () => (await status(second.key)) === 200, 'the key is in force');
    writeKeys(JSON.stringify([{ ...first.record, sha256: 'not-a-hash' }]));
    assert.equal(server.runtime.reloads.reload('test'), false);
    assert.equal(await status(second.key), 200);
    assert.match(server.logs(), /config reload refused/);
    assert.match(server.logs(), /auth\.keys_file\[0\]\.sha256/);
  });
});
