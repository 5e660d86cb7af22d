import { test } from 'node:test';
import { startTestServer } from '../test/support/server.js';
test('x', async () => {
  const server = await startTestServer({ auth: { api_keys: [{ key: 'fuzz-key-000000', tenant: 'fuzz' }] }, sample_corpus: { enabled: false } });
  const h = { authorization: 'Bearer fuzz-key-000000' };
  for (const [doc, dl] of [[{ id: 'deadlines', text: 'Each stage gets a budget.' }, undefined], [{ id: 'd1', text: '!' }, undefined], [{ id: 'd1', text: '!' }, '19'], [{ id: 'd2', text: 'hello' }, '19']] as const) {
    const res = await server.post('/v1/documents', { documents: [doc] }, dl ? { ...h, 'x-pronto-deadline-ms': dl } : h);
    console.log(res.status, (await res.text()).slice(0, 300));
  }
  await server.close();
});
