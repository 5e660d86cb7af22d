import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import WebSocket from 'ws';
import { createKey } from '../../src/config/keys.js';
import { errorDetails, type ProntoClient, startGrpcTestServer, STREAM_MODELS, unary, withKey } from '../support/grpc.js';
import { type TestServer } from '../support/server.js';

const as = (key: string) => ({ authorization: `Bearer ${key}` });
const LIMITS = { max_body_bytes: 600, max_text_chars: 40, max_top_k: 3, max_tokens: 20 };
const LONG = 'What does pronto do when its generator fails?'; // 45 characters: over 40
const SHORT = 'What is pronto?';

describe('per-key request shaping (limits.max_*)', () => {
  const shaped = createKey({ tenant: 'shaping', id: 'shaped', limits: LIMITS });
  const free = createKey({ tenant: 'shaping', id: 'free' });
  let server: TestServer;
  let client: ProntoClient;

  before(async () => {
    ({ server, client } = await startGrpcTestServer({
      models: STREAM_MODELS,
      pipeline: { embedder: 'sim', generator: 'extractive' },
      auth: { keys: [shaped.record, free.record] },
    }));
  });
  after(async () => {
    client.close();
    await server.close();
  });

  /** The refusal's body, checked to name the field, the limit and the key's cap. */
  async function refusal(res: Response, status: number, field: string, limit: keyof typeof LIMITS) {
    assert.equal(res.status, status, await res.clone().text());
    const { error } = await res.json();
    assert.equal(error.code, status === 413 ? 'payload_too_large' : 'invalid_input');
    assert.equal(error.field, field);
    assert.equal(error.limit, limit);
    assert.equal(error.max, LIMITS[limit]);
    assert.match(error.message, new RegExp(`"shaped".*${limit} of ${LIMITS[limit]}`));
  }

  test('text length: a question, a query, a message or an input to embed over the cap is 413 naming the field', async () => {
    await refusal(await server.post('/v1/infer', { text: LONG }, as(shaped.key)), 413, 'text', 'max_text_chars');
    await refusal(await server.post('/v1/search', { query: LONG }, as(shaped.key)), 413, 'query', 'max_text_chars');
    const messages = [{ role: 'user', content: SHORT }, { role: 'assistant', content: 'A server.' }, { role: 'user', content: LONG }];
    await refusal(await server.post('/v1/chat', { messages }, as(shaped.key)), 413, 'messages[2].content', 'max_text_chars');
    await refusal(await server.post('/v1/embeddings', { model: 'sim', input: [SHORT, LONG] }, as(shaped.key)), 413, 'input[1]', 'max_text_chars');
    await refusal(await server.post('/v1/jobs', { kind: 'infer', input: { text: LONG } }, as(shaped.key)), 413, 'input.text', 'max_text_chars');
    assert.equal((await server.post('/v1/infer', { text: SHORT }, as(shaped.key))).status, 200, 'within the cap');
    assert.equal((await server.post('/v1/infer', { text: LONG }, as(free.key))).status, 200, 'another key has no cap');
  });

  test('top_k and max_tokens over the cap are 400 naming the field', async () => {
    await refusal(await server.post('/v1/search', { query: SHORT, top_k: 4 }, as(shaped.key)), 400, 'top_k', 'max_top_k');
    await refusal(await server.post('/v1/infer', { text: SHORT, max_tokens: 21 }, as(shaped.key)), 400, 'max_tokens', 'max_tokens');
    const completion = { model: 'pronto-rag', messages: [{ role: 'user', content: SHORT }], max_completion_tokens: 21 };
    await refusal(await server.post('/v1/chat/completions', completion, as(shaped.key)), 400, 'max_completion_tokens', 'max_tokens');
    assert.equal((await server.post('/v1/search', { query: SHORT, top_k: 3 }, as(shaped.key))).status, 200);
    assert.equal((await server.post('/v1/search', { query: SHORT, top_k: 4 }, as(free.key))).status, 200);
  });

  test('body bytes: a declared length over the cap is refused unread; a chunked body is cut off at the cap', async () => {
    const big = { documents: [{ id: 'big', text: 'x'.repeat(700) }] };
    await refusal(await server.post('/v1/documents', big, as(shaped.key)), 413, 'body', 'max_body_bytes');
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/json', ...as(shaped.key) } }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      // No Content-Length: Node sends it chunked, in pieces under the cap that add up past it.
      const text = JSON.stringify(big);
      for (let i = 0; i < text.length; i += 200) req.write(text.slice(i, i + 200));
      req.end();
    });
    assert.equal(chunked.status, 413, chunked.body);
    assert.equal(JSON.parse(chunked.body).error.limit, 'max_body_bytes');
    assert.equal((await server.post('/v1/documents', big, as(free.key))).status, 200, 'another key sends it');
  });

  test('a WebSocket frame is shaped as the /v1/chat body it carries', async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/chat/ws`, { headers: as(shaped.key) });
    await once(socket, 'open');
    const next = async () => JSON.parse(String((await once(socket, 'message'))[0]));
    socket.send(JSON.stringify({ text: LONG }));
    const tooLong = await next();
    assert.equal(tooLong.type, 'error');
    assert.deepEqual([tooLong.error.field, tooLong.error.limit], ['text', 'max_text_chars']);
    socket.send(JSON.stringify({ text: SHORT, pad: 'x'.repeat(700) }));
    const tooBig = await next();
    assert.deepEqual([tooBig.error.code, tooBig.error.limit], ['payload_too_large', 'max_body_bytes']);
    socket.close();
    await once(socket, 'close');
  });

  test('gRPC requests are shaped as their HTTP twins: INVALID_ARGUMENT naming the field', async () => {
    const over = await unary(client, 'Search', { query: SHORT, top_k: 4 }, withKey(shaped.key)).catch((err: grpc.ServiceError) => err);
    assert.ok(over instanceof Error);
    assert.equal((over as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
    const details = errorDetails(over as grpc.ServiceError);
    assert.deepEqual([details.reason, details.field], ['invalid_input', 'top_k']);
    const long = await unary(client, 'Infer', { text: LONG }, withKey(shaped.key)).catch((err: grpc.ServiceError) => err);
    assert.equal(errorDetails(long as grpc.ServiceError).field, 'text');
    const ok = await unary(client, 'Search', { query: SHORT, top_k: 3 }, withKey(shaped.key));
    assert.ok(Array.isArray(ok.hits));
  });
});
