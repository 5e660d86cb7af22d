import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import WebSocket from 'ws';
import { metricValue, readSse, startTestServer, type TestServer } from '../support/server.js';

describe('serving routes on embedded defaults', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test('health, readiness and request ids', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.match(health.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const ready = await fetch(`${server.url}/readyz`, { headers: { 'x-request-id': 'trace-123' } });
    assert.equal(ready.status, 200);
    assert.equal(ready.headers.get('x-request-id'), 'trace-123');
    assert.deepEqual((await ready.json()).status, 'ready');
  });

  test('POST /v1/infer answers from the sample corpus with citations, timings and Server-Timing', async () => {
    const res = await server.post('/v1/infer', { text: 'How does pronto degrade when a stage is too slow?' });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.ok(body.answer.length > 20, 'a real answer');
    assert.ok(body.contexts.length > 0, 'with contexts');
    assert.ok(body.citations.length > 0, 'citing them');
    for (const id of body.citations) assert.ok(body.contexts.some((c: { id: string }) => c.id === id));
    assert.deepEqual(body.degraded, []);
    assert.ok(body.timings.retrieve >= 0 && body.timings.generate >= 0);
    const timing = res.headers.get('server-timing') ?? '';
    for (const stage of ['sanitize', 'embed', 'retrieve', 'generate', 'total']) assert.match(timing, new RegExp(`${stage};dur=`));
  });

  test('POST /v1/chat streams contexts, tokens, then done', async () => {
    const res = await server.post('/v1/chat', { messages: [{ role: 'user', content: 'What metrics does pronto export?' }] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.match(res.headers.get('server-timing') ?? '', /retrieve;dur=/);
    const events = [];
    for await (const event of readSse(res)) events.push(event);
    assert.equal(events[0].event, 'contexts');
    assert.ok(events[0].data.contexts.length > 0);
    const tokens = events.filter((e) => e.event === 'token');
    assert.ok(tokens.length > 3, 'streamed token by token');
    const done = events.at(-1)!;
    assert.equal(done.event, 'done');
    assert.ok(done.data.usage.completion_tokens > 0);
    assert.deepEqual(done.data.degraded, []);
    assert.ok(done.data.timings.generate >= 0);
  });

  test('POST /v1/chat with stream:false answers as JSON', async () => {
    const res = await server.post('/v1/chat', { text: 'What is pronto?', stream: false });
    assert.equal(res.status, 200);
    assert.ok((await res.json()).answer.length > 0);
  });

  test('GET /v1/chat/ws streams the same events over WebSocket', async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/chat/ws`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const events: Array<{ type: string }> = [];
    const finished = new Promise<void>((resolve) =>
      socket.on('message', (raw) => {
        const event = JSON.parse(String(raw));
        events.push(event);
        if (event.type === 'done' || event.type === 'error') resolve();
      }),
    );
    socket.send(JSON.stringify({ text: 'How are jobs queued?' }));
    await finished;
    socket.close();
    assert.equal(events[0].type, 'contexts');
    assert.ok(events.filter((e) => e.type === 'token').length > 1);
    assert.equal(events.at(-1)!.type, 'done');
  });

  test('a bad WebSocket frame gets an error event naming the field, and the socket stays usable', async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/chat/ws`);
    await new Promise((resolve) => socket.once('open', resolve));
    const next = () => new Promise<any>((resolve) => socket.once('message', (raw) => resolve(JSON.parse(String(raw)))));
    socket.send(JSON.stringify({ text: 'hi', top_k: 'many' }));
    const error = await next();
    assert.equal(error.type, 'error');
    assert.equal(error.error.field, 'top_k');
    socket.send(JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'robot', content: 'x' }] }));
    assert.equal((await next()).error.field, 'messages[1].role', 'the same field paths as over HTTP');
    socket.send('not json');
    assert.equal((await next()).error.code, 'invalid_json');
    socket.close();
  });

  test('POST /v1/search returns scored hits', async () => {
    const res = await server.post('/v1/search', { query: 'prometheus metrics', top_k: 3 });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.hits.length, 3);
    for (const hit of body.hits) {
      assert.equal(typeof hit.score, 'number');
      assert.ok(hit.text.length > 0 && hit.doc_id && hit.id);
    }
    for (const mode of ['dense', 'sparse', 'hybrid']) {
      const r = await server.post('/v1/search', { query: 'deadline budgets', mode, top_k: 2 });
      assert.equal(r.status, 200, mode);
      assert.equal((await r.json()).hits.length, 2, mode);
    }
  });

  test('the openai client works unchanged against /v1/models, /v1/embeddings and /v1/chat/completions', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused' });
    const models = await client.models.list();
    const ids = models.data.map((m) => m.id);
    assert.ok(ids.includes('use-lite') && ids.includes('extractive') && ids.includes('pronto-rag'));

    const embeddings = await client.embeddings.create({ model: 'use-lite', input: ['first text', 'second text'] });
    assert.equal(embeddings.data.length, 2);
    assert.equal(embeddings.data[0].embedding.length, 512);
    assert.equal(embeddings.data[1].index, 1);
    const base64 = await client.embeddings.create({ model: 'use-lite', input: 'one' });
    assert.equal(base64.data[0].embedding.length, 512, 'the client decodes base64 by default');

    const completion = await client.chat.completions.create({ model: 'pronto-rag', messages: [{ role: 'user', content: 'What is pronto?' }] });
    assert.equal(completion.object, 'chat.completion');
    assert.ok((completion.choices[0].message.content ?? '').length > 0);
    assert.ok(completion.usage!.completion_tokens > 0);

    const stream = await client.chat.completions.create({
      model: 'pronto-rag',
      messages: [{ role: 'user', content: 'How does search work?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.ok(chunks > 3 && text.length > 0);
    assert.ok(usage && usage.completion_tokens > 0);
  });

  test('documents: ingest, visible to search at once, replace by id, delete', async () => {
    const namespace = 'routes-docs';
    const acceptedBefore = await metricValue(server.url, 'pronto_ingested_documents_total', { outcome: 'accepted' });
    const ingest = await server.post('/v1/documents', {
      namespace,
      documents: [{ id: 'zebra-1', title: 'Zebras', text: 'Zebras are striped equines native to Africa. Their stripes deter biting flies.', metadata: { kind: 'animal' } }],
    });
    assert.equal(ingest.status, 200);
    assert.deepEqual((await ingest.json()).accepted.map((a: { id: string }) => a.id), ['zebra-1']);
    const acceptedAfter = await metricValue(server.url, 'pronto_ingested_documents_total', { outcome: 'accepted' });
    assert.equal(acceptedAfter - acceptedBefore, 1, 'one document is counted once');
    const found = await (await server.post('/v1/search', { query: 'striped equines', namespace })).json();
    assert.equal(found.hits[0].doc_id, 'zebra-1');
    assert.equal(found.hits[0].metadata.kind, 'animal');

    await server.post('/v1/documents', { namespace, documents: [{ id: 'zebra-1', text: 'Okapis are forest giraffids.' }] });
    const replaced = await (await server.post('/v1/search', { query: 'okapi', namespace, mode: 'sparse' })).json();
    assert.equal(replaced.hits.length, 1, 'the old chunks are gone');
    assert.match(replaced.hits[0].text, /Okapis/);

    const del = await fetch(`${server.url}/v1/documents/zebra-1?namespace=${namespace}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    const again = await fetch(`${server.url}/v1/documents/zebra-1?namespace=${namespace}`, { method: 'DELETE' });
    assert.equal(again.status, 404);
  });

  test('POST /v1/feedback accepts a rating for an answer', async () => {
    assert.equal((await server.post('/v1/infer', { text: 'What is pronto?' }, { 'x-request-id': 'trace-123' })).status, 200);
    const res = await server.post('/v1/feedback', { request_id: 'trace-123', rating: 1, comment: 'great, mail me at a@b.co' });
    assert.equal(res.status, 202);
    const [record] = await server.runtime.feedback.recent('public', 1);
    assert.equal(record.request_id, 'trace-123');
    assert.equal(record.comment, 'great, mail me at [EMAIL]');
    assert.equal((await server.post('/v1/feedback', { request_id: 'x', rating: 9 })).status, 400);
  });

  test('/metrics, /docs and the dashboard are served', async () => {
    const metrics = await fetch(`${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    for (const name of ['pronto_http_requests_total', 'pronto_stage_duration_seconds', 'pronto_time_to_first_token_seconds', 'pronto_model_batch_size']) {
      assert.ok(text.includes(name), name);
    }
    assert.ok((await metricValue(server.url, 'pronto_http_requests_total', { route: '/v1/infer', status: '200' })) >= 1);
    const openapi = await (await fetch(`${server.url}/docs/json`)).json();
    for (const path of ['/v1/infer', '/v1/chat', '/v1/search', '/v1/embeddings', '/v1/chat/completions', '/v1/models', '/v1/documents', '/v1/documents/{id}', '/v1/feedback', '/healthz', '/readyz']) {
      assert.ok(openapi.paths[path], `OpenAPI documents ${path}`);
    }
    assert.ok(openapi.paths['/v1/search'].post.requestBody, 'with request schemas');
    const page = await fetch(`${server.url}/`);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  });
});
