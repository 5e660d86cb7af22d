import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readSse, startTestServer, type TestServer } from '../support/server.js';

const SECRETS = ['jane.doe@example.com', '123-45-6789', '4111 1111 1111 1111', '10.20.30.40', '(555) 867-5309'];

describe('PII is redacted before any stage, store or log sees it', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('questions, answers, stored documents and logs carry no PII', async () => {
    const namespace = 'pii';
    const ingest = await server.post('/v1/documents', {
      namespace,
      documents: [{ id: 'customer-1', text: `Customer record: email ${SECRETS[0]}, SSN ${SECRETS[1]}, card ${SECRETS[2]}, last login from ${SECRETS[3]}, phone ${SECRETS[4]}. Order 4111111111111112 shipped.` }],
    });
    assert.equal(ingest.status, 200);

    const search = await (await server.post('/v1/search', { query: `customer record ${SECRETS[0]}`, namespace })).json();
    const stored = search.hits[0].text as string;
    for (const secret of SECRETS) assert.ok(!stored.includes(secret), `stored text leaks ${secret}`);
    assert.match(stored, /\[EMAIL\].*\[SSN\].*\[CREDIT_CARD\].*\[IP_ADDRESS\].*\[PHONE\]/);
    assert.match(stored, /Order 4111111111111112 shipped/, 'numbers that fail the Luhn check survive');

    const res = await server.post('/v1/chat', { namespace, text: `What do we know about ${SECRETS[0]} with SSN ${SECRETS[1]}?` });
    let streamed = '';
    for await (const event of readSse(res)) streamed += JSON.stringify(event.data);
    for (const secret of SECRETS) assert.ok(!streamed.includes(secret), `the answer leaks ${secret}`);

    const logs = server.logs();
    assert.ok(logs.length > 0);
    for (const secret of SECRETS) assert.ok(!logs.includes(secret), `the logs leak ${secret}`);
  });
});
