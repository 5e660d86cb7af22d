import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from '../support/routes.js';
import { startTestServer, type TestServer } from '../support/server.js';

const KEYS = [
  { key: 'privacy-key-team-a', tenant: 'team-a' },
  { key: 'privacy-key-team-b', tenant: 'team-b' },
];
const as = (i: number, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${KEYS[i].key}`, ...extra });
const SSN = '123-45-6789';
const CARD = '4111-1111-1111-1111';

describe('PII never reaches storage or logs through side doors', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ auth: { api_keys: KEYS } });
  });
  after(() => server.close());

  test('document metadata is redacted before it is stored and returned', async () => {
    const ingest = await server.post(
      '/v1/documents',
      { namespace: 'meta', documents: [{ id: 'd1', text: 'Walruses nap on ice floes.', metadata: { owner: 'jane.doe@example.com', tags: [`ssn ${SSN}`, 'ok'], n: 3 } }] },
      as(0),
    );
    assert.equal(ingest.status, 200, await ingest.clone().text());
    const hits = (await (await server.post('/v1/search', { query: 'walruses', namespace: 'meta' }, as(0))).json()).hits;
    assert.deepEqual(hits[0].metadata, { owner: '[EMAIL]', tags: ['ssn [SSN]', 'ok'], n: 3 });
  });

  test('ids, namespaces and metadata keys that carry PII are refused, naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ namespace: 'meta', documents: [{ id: SSN, text: 'x' }] }, 'documents[0].id'],
      [{ namespace: 'meta', documents: [{ id: 'ok', text: 'x', metadata: { [CARD]: 1 } }] }, 'documents[0].metadata'],
      [{ namespace: '555-867-5309', documents: [{ id: 'ok', text: 'x' }] }, 'namespace'],
    ];
    for (const [body, field] of cases) {
      const res = await server.post('/v1/documents', body, as(0));
      const error = (await res.json()).error;
      assert.equal(res.status, 400);
      assert.equal(error.field, field);
      assert.match(error.message, /personal data/);
    }
    const search = await server.post('/v1/search', { query: 'q', namespace: '555-867-5309' }, as(0));
    assert.equal(search.status, 400);
  });

  test('an id of bare digits is a numeric key, not an SSN (SciFact ids have nine digits)', async () => {
    const res = await server.post('/v1/documents', { namespace: 'meta', documents: [{ id: '123456789', text: 'Numeric keys are common.' }] }, as(0));
    assert.equal(res.status, 200, await res.clone().text());
  });

  test('an x-request-id carrying PII is replaced, not echoed or logged', async () => {
    for (const id of [SSN, CARD]) {
      const res = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': id } });
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }
  });

  test('URLs, unknown field names and namespaces reach the logs redacted', async () => {
    await rawRequest(server.url, 'DELETE', `/v1/documents/${SSN}?namespace=meta`, { headers: as(0) });
    await rawRequest(server.url, 'GET', `/v1/nothing-here/${SSN}`, { headers: as(0) });
    await server.post('/v1/search', { query: 'q', [`x${CARD}`]: 1 }, as(0));
    await server.post('/v1/search', { query: 'q', namespace: SSN }, as(0));
    await rawRequest(server.url, 'GET', `/v1/jobs/${CARD}`, { headers: as(0) });
    const logs = server.logs();
    for (const secret of [SSN, CARD]) assert.ok(!logs.includes(secret), `the logs leak ${secret}`);
    assert.match(logs, /"route":"\/v1\/documents\/:id"/, 'requests are logged by route template');
  });

  test('only the tenant that made a request may rate it', async () => {
    const answered = await server.post('/v1/search', { query: 'walruses', namespace: 'meta' }, as(0, { 'x-request-id': 'req-of-team-a' }));
    assert.equal(answered.status, 200);
    const other = await server.post('/v1/feedback', { request_id: 'req-of-team-a', rating: -1 }, as(1));
    assert.equal(other.status, 404, 'team B cannot rate team A\'s request');
    assert.equal((await other.json()).error.field, 'request_id');
    const unknown = await server.post('/v1/feedback', { request_id: 'never-made', rating: 1 }, as(0));
    assert.equal(unknown.status, 404);
    assert.equal((await server.post('/v1/feedback', { request_id: 'req-of-team-a', rating: 5 }, as(0))).status, 202);
    assert.equal((await server.runtime.feedback.recent('team-b', 10)).length, 0);
  });
});
