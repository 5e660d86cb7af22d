import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { errorDetails, type ProntoClient, startGrpcTestServer, STREAM_MODELS, unary, withKey } from '../support/grpc.js';
import { metricValue, type TestServer } from '../support/server.js';

const KEYS = { acme: 'acme-key-123456', globex: 'globex-key-123456' };

describe('gRPC: pronto.v1.Pronto over a real grpc-js client', () => {
  let server: TestServer;
  let client: ProntoClient;
  const acme = () => withKey(KEYS.acme);
  before(async () => {
    ({ server, client } = await startGrpcTestServer({
      models: STREAM_MODELS,
      pipeline: { embedder: 'sim', generator: 'extractive' },
      auth: { api_keys: Object.entries(KEYS).map(([tenant, key]) => ({ tenant, key })) },
    }));
  });
  after(async () => {
    client?.close();
    await server?.close();
  });

  async function ingest(key: string, namespace: string) {
    const res = await server.post(
      '/v1/documents',
      { namespace, documents: [{ id: 'grpc-doc', text: 'gRPC carries protocol buffers over HTTP/2 streams.', metadata: { lang: 'en' } }] },
      { authorization: `Bearer ${key}` },
    );
    assert.equal(res.status, 200, await res.text());
  }

  test('Infer, Search and Embed answer as their HTTP twins', async () => {
    await ingest(KEYS.acme, 'grpc');
    const answer = await unary(client, 'Infer', { text: 'What does gRPC carry?', namespace: 'grpc' }, acme());
    assert.ok(answer.answer.length > 0);
    assert.equal(answer.contexts[0].doc_id, 'grpc-doc');
    assert.deepEqual(answer.contexts[0].metadata, { fields: { lang: { stringValue: 'en', kind: 'stringValue' } } });
    assert.ok(answer.timings.retrieve > 0 && answer.latency_ms > 0);

    const search = await unary(client, 'Search', { query: 'protocol buffers', namespace: 'grpc', top_k: 1, mode: 'sparse', filter: { fields: { lang: { stringValue: 'en' } } } }, acme());
    assert.equal(search.hits.length, 1);
    assert.equal(search.hits[0].doc_id, 'grpc-doc');
    const http = await (await server.post('/v1/search', { query: 'protocol buffers', namespace: 'grpc', top_k: 1, mode: 'sparse' }, { authorization: `Bearer ${KEYS.acme}` })).json();
    assert.equal(search.hits[0].score, http.hits[0].score);

    const embedded = await unary(client, 'Embed', { texts: ['one', 'two'] }, acme());
    assert.equal(embedded.model, 'sim');
    assert.equal(embedded.embeddings.length, 2);
    assert.equal(embedded.embeddings[0].values.length, 32);
    assert.equal(embedded.tokens, 2);
  });

  test('SubmitJob and GetJob run a job for its tenant only', async () => {
    const { job_id } = await unary(client, 'SubmitJob', { kind: 'embed', input: { fields: { texts: { listValue: { values: [{ stringValue: 'queued text' }] } } } } }, acme());
    let job: any;
    for (let i = 0; i < 200; i++) {
      job = await unary(client, 'GetJob', { job_id }, acme());
      if (job.status === 'succeeded' || job.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
    assert.equal(job.kind, 'embed');
    assert.ok(job.result.structValue.fields.model);
    const other = await unary(client, 'GetJob', { job_id }, withKey(KEYS.globex)).catch((err) => err);
    assert.equal(other.code, grpc.status.NOT_FOUND);
  });

  test('auth: no key is UNAUTHENTICATED; a tenant cannot see another tenant\'s namespace', async () => {
    const none = await unary(client, 'Embed', { texts: ['x'] }).catch((err) => err);
    assert.equal(none.code, grpc.status.UNAUTHENTICATED);
    assert.equal(errorDetails(none).reason, 'unauthorized');
    const wrong = await unary(client, 'Embed', { texts: ['x'] }, withKey('not-a-key-at-all')).catch((err) => err);
    assert.equal(wrong.code, grpc.status.UNAUTHENTICATED);

    await ingest(KEYS.acme, 'private');
    const theirs = await unary(client, 'Search', { query: 'protocol', namespace: 'private' }, withKey(KEYS.globex)).catch((err) => err);
    assert.equal(theirs.code, grpc.status.NOT_FOUND);
    assert.equal(errorDetails(theirs).reason, 'unknown_namespace');
    assert.equal(errorDetails(theirs).field, 'namespace');
  });

  test('invalid input is INVALID_ARGUMENT naming the field in a BadRequest', async () => {
    const empty = await unary(client, 'Infer', {}, acme()).catch((err) => err);
    assert.equal(empty.code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual([errorDetails(empty).reason, errorDetails(empty).field], ['invalid_input', 'text']);
    const badRole = await new Promise<any>((resolve) => {
      const call = client.Chat({ messages: [{ role: 'robot', content: 'hi' }] }, acme());
      call.on('data', () => resolve(new Error('a stream, not an error')));
      call.on('error', resolve);
    });
    assert.equal(badRole.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(errorDetails(badRole).field, 'messages[0].role');
    const topK = await unary(client, 'Search', { query: 'x', top_k: 100000 }, acme()).catch((err) => err);
    assert.equal(errorDetails(topK).field, 'top_k');
    const job = await unary(client, 'SubmitJob', { kind: 'embed', input: { fields: { texts: { listValue: { values: [] } } } } }, acme()).catch((err) => err);
    assert.equal(job.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(errorDetails(job).field, 'input.texts');
    // Nested past the 32 levels a JSON body may have (protobuf itself stops at 100 message levels).
    let texts: object = { stringValue: 'deep' };
    for (let i = 0; i < 40; i++) texts = { listValue: { values: [texts] } };
    const deep = await unary(client, 'SubmitJob', { kind: 'embed', input: { fields: { texts } } }, acme()).catch((err) => err);
    assert.equal(deep.code, grpc.status.INVALID_ARGUMENT, deep.details);
    assert.match(deep.details, /nested deeper than 32 levels/);
    const missing = await unary(client, 'GetJob', { job_id: 'no-such-job' }, acme()).catch((err) => err);
    assert.equal(missing.code, grpc.status.NOT_FOUND);
  });

  test('x-request-id: a safe id comes back, one carrying PII is replaced; a gRPC answer is rated over HTTP by its tenant only', async () => {
    const idOf = (id: string) =>
      new Promise<string>((resolve, reject) => {
        const metadata = acme();
        metadata.set('x-request-id', id);
        const call = client.Embed({ texts: ['rate me'] }, metadata, (err: grpc.ServiceError | null) => err && reject(err));
        call.on('metadata', (sent: grpc.Metadata) => resolve(String(sent.get('x-request-id')[0])));
      });
    assert.equal(await idOf('grpc-req-of-acme'), 'grpc-req-of-acme');
    assert.match(await idOf('123-45-6789'), /^[0-9a-f-]{36}$/, 'an SSN is not echoed');
    const rate = (key: string) => server.post('/v1/feedback', { request_id: 'grpc-req-of-acme', rating: 1 }, { authorization: `Bearer ${key}` });
    assert.equal((await rate(KEYS.globex)).status, 404, 'another tenant cannot rate it');
    assert.equal((await rate(KEYS.acme)).status, 202);
  });

  test("a call is in its tenant's recent requests (the dashboard's request view), with its stage timings", async () => {
    const metadata = acme();
    metadata.set('x-request-id', 'grpc-observed');
    await unary(client, 'Embed', { texts: ['watch me'] }, metadata);
    const seen = await fetch(`${server.url}/stats/requests/grpc-observed`, { headers: { authorization: `Bearer ${KEYS.acme}` } });
    assert.equal(seen.status, 200);
    const summary = await seen.json();
    assert.deepEqual([summary.route, summary.status], ['/pronto.v1.Pronto/Embed', 200]);
    assert.ok(summary.timings.embed >= 0, JSON.stringify(summary));
    assert.equal((await fetch(`${server.url}/stats/requests/grpc-observed`, { headers: { authorization: `Bearer ${KEYS.globex}` } })).status, 404);
  });

  test('each call is counted with route = the gRPC method', async () => {
    const before = await metricValue(server.url, 'pronto_http_requests_total', { method: 'GRPC', route: '/pronto.v1.Pronto/Embed', status: '200' });
    await unary(client, 'Embed', { texts: ['count me'] }, acme());
    assert.equal(await metricValue(server.url, 'pronto_http_requests_total', { method: 'GRPC', route: '/pronto.v1.Pronto/Embed', status: '200' }), before + 1);
  });
});
