import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { rawExchange } from '../support/routes.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ROUTES = ['/v1/infer', '/v1/chat', '/v1/search', '/v1/embeddings', '/v1/chat/completions', '/v1/documents', '/v1/feedback'];

describe('bad input gets a clear error, never a 5xx', () => {
  let server: TestServer;
  before(async () => {
    // Its own sample-corpus memo: the model embeds the corpus itself, as a fresh server does, so its
    // cost model has measured real batches before the largest-document test prices one.
    server = await startTestServer({ limits: { max_text_chars: 2000 } }, { sampleCorpusVectors: new Map() });
  });
  after(() => server.close());

  async function expectError(res: Response, status: number, code: string, field?: string) {
    const body = await res.json();
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error.code, code, JSON.stringify(body));
    assert.equal(typeof body.error.message, 'string');
    if (field !== undefined) assert.equal(body.error.field, field, JSON.stringify(body));
    assert.ok(res.headers.get('x-request-id'));
  }

  test('malformed JSON', async () => expectError(await server.post('/v1/infer', '{"text": "hi"'), 400, 'invalid_json'));
  test('empty body', async () => expectError(await server.post('/v1/infer', ''), 400, 'invalid_json'));
  test('missing field', async () => expectError(await server.post('/v1/infer', {}), 400, 'invalid_input', 'text'));
  test('wrong type', async () => expectError(await server.post('/v1/infer', { text: 42 }), 400, 'invalid_input', 'text'));
  test('empty text', async () => expectError(await server.post('/v1/infer', { text: '' }), 400, 'invalid_input', 'text'));
  test('blank text', async () => expectError(await server.post('/v1/search', { query: '   ' }), 400, 'invalid_input', 'query'));
  test('oversized text', async () => expectError(await server.post('/v1/infer', { text: 'x'.repeat(2001) }), 413, 'payload_too_large', 'text'));
  test('oversized body', async () => expectError(await server.post('/v1/infer', { text: 'x '.repeat(600_000) }), 413, 'payload_too_large'));
  test('huge top_k', async () => expectError(await server.post('/v1/search', { query: 'q', top_k: 100000 }), 400, 'invalid_input', 'top_k'));
  test('string top_k is not coerced', async () => expectError(await server.post('/v1/search', { query: 'q', top_k: '5' }), 400, 'invalid_input', 'top_k'));
  test('unknown field', async () => expectError(await server.post('/v1/search', { query: 'q', tokp: 5 }), 400, 'unknown_field', 'tokp'));
  test('an unknown empty key is named as the JSON string it is', async () => expectError(await server.post('/v1/search', { query: 'q', '': null }), 400, 'unknown_field', '""'));
  test('nested field path', async () =>
    expectError(await server.post('/v1/chat', { messages: [{ role: 'user', content: 'a' }, { role: 'robot', content: 'b' }] }), 400, 'invalid_input', 'messages[1].role'));
  test('conversation must end with the user', async () =>
    expectError(await server.post('/v1/chat', { messages: [{ role: 'assistant', content: 'a' }] }), 400, 'invalid_input', 'messages[0].role'));
  test('unknown namespace', async () => expectError(await server.post('/v1/search', { query: 'q', namespace: 'nope' }), 404, 'unknown_namespace', 'namespace'));
  test('unknown model', async () => expectError(await server.post('/v1/embeddings', { input: 'q', model: 'gpt-9' }), 404, 'unknown_model', 'model'));
  test('unknown generator in chat completions', async () =>
    expectError(await server.post('/v1/chat/completions', { model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] }), 404, 'unknown_model', 'model'));
  test('an embedder is not a chat model', async () =>
    expectError(await server.post('/v1/chat/completions', { model: 'use-lite', messages: [{ role: 'user', content: 'hi' }] }), 404, 'unknown_model', 'model'));
  test('invalid UTF-8', async () => {
    const body = Buffer.concat([Buffer.from('{"text":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await fetch(`${server.url}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await expectError(res, 400, 'invalid_utf8');
  });
  test('a NUL character is named as such, not as invalid UTF-8', async () => {
    const res = await server.post('/v1/documents', { namespace: 'bad-input', documents: [{ id: 'nul', text: 'a \u0000 b' }] });
    const body = await res.json();
    assert.equal(res.status, 400);
    assert.match(body.error.message, /NUL character/);
    assert.equal(body.error.field, 'documents[0].text');
  });
  test('a __proto__ key is named as such, not as invalid JSON', async () => {
    const res = await server.post('/v1/search', '{"query":"q","__proto__":{"x":1}}');
    const body = await res.json();
    assert.equal(res.status, 400);
    assert.match(body.error.message, /__proto__/);
    const syntax = await (await server.post('/v1/search', '{"query":')).json();
    assert.equal(syntax.error.code, 'invalid_json');
    assert.match(syntax.error.message, /not valid JSON: .+/, 'says where the syntax breaks');
  });
  test('a body nested deeper than 32 levels is refused as such (it overflowed the stack: 500)', async () => {
    const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    for (const [path, body] of [
      ['/v1/documents', `{"documents":[{"id":"deep","text":"hello","metadata":{"m":${deep(20_000)}}}]}`],
      ['/v1/jobs', `{"kind":"ingest","input":{"documents":[{"id":"deep","text":"hello","metadata":{"m":${deep(20_000)}}}]}}`],
      ['/v1/search', `{"query":"q","filter":{"a":${deep(40)}}}`],
    ]) {
      await expectError(await server.post(path, body), 400, 'invalid_input');
    }
    const res = await server.post('/v1/search', `{"query":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ \\" {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"}`);
    assert.equal(res.status, 200, 'brackets inside strings do not count');
  });
  test('a nested metadata error names its path once', async () => {
    const res = await server.post('/v1/documents', { namespace: 'bad-input', documents: [{ id: 'm', text: 'fine', metadata: { m: { deep: 1 } } }] });
    assert.equal((await res.json()).error.field, 'documents[0].metadata.m');
  });
  test('wrong content type', async () => {
    const res = await fetch(`${server.url}/v1/infer`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    await expectError(res, 415, 'unsupported_media_type');
  });
  test('bad deadline header', async () =>
    expectError(await server.post('/v1/infer', { text: 'hi' }, { 'x-pronto-deadline-ms': 'soon' }), 400, 'invalid_input', 'x-pronto-deadline-ms'));
  test('unknown route', async () => expectError(await fetch(`${server.url}/v1/nothing`), 404, 'not_found'));
  test('a URL the router cannot decode gets our error body, not Fastify\'s', async () =>
    expectError(await fetch(`${server.url}/v1/%ZZ`), 400, 'invalid_input', 'path'));
  test('a 256-character document id fits in the path (it was a 414 past 100)', async () =>
    expectError(await fetch(`${server.url}/v1/documents/${'d'.repeat(256)}`, { method: 'DELETE' }), 404, 'not_found', 'id'));
  test('a document batch reports the bad one and keeps the others', async () => {
    const res = await server.post('/v1/documents', {
      namespace: 'bad-input',
      documents: [
        { id: 'ok-1', text: 'A perfectly fine document about otters.' },
        { id: 'bad-1', text: '   ' },
      ],
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.accepted.map((a: { id: string }) => a.id), ['ok-1']);
    assert.equal(body.failed[0].id, 'bad-1');
    assert.equal(body.failed[0].index, 1);
  });

  describe('malformed HTTP gets the error catalogue\'s body, not Fastify\'s, then the connection closes', () => {
    const HOST = 'Host: 127.0.0.1\r\n';
    const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    const cases: Array<[string, string, number, string, RegExp]> = [
      ['a bad request line', 'GARBAGE\r\n\r\n', 400, 'invalid_http', /HPE_INVALID_METHOD/],
      ['a bad header name', `GET /healthz HTTP/1.1\r\n${HOST}Bad Header: x\r\n\r\n`, 400, 'invalid_http', /HPE_INVALID_HEADER_TOKEN/],
      ['a bad chunk size', `POST /v1/search HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`, 400, 'invalid_http', /HPE_INVALID_CHUNK_SIZE/],
      ['both Content-Length and chunked', `POST /v1/search HTTP/1.1\r\n${HOST}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`, 400, 'invalid_http', /HPE_/],
      ['headers over the size limit', `GET /healthz HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large', /size limit/],
      // The connection stayed open (the server's count of connections never fell back) and held shutdown.
      ['a WebSocket upgrade to a URL the router cannot decode', `GET /v1/%ZZ HTTP/1.1\r\n${HOST}${UPGRADE}\r\n`, 400, 'invalid_input', /percent-encoding/],
    ];
    for (const [name, bytes, status, code, message] of cases) {
      // A connection left open is the failure: the test fails by its timeout rather than hang the suite.
      test(name, { timeout: 30_000 }, async () => {
        const res = await rawExchange(server.url, bytes);
        assert.equal(res.status, status, `${res.head}\n${res.body}`);
        assert.match(res.head, /content-type: application\/json/i);
        const body = JSON.parse(res.body);
        assert.deepEqual(Object.keys(body), ['error'], res.body);
        assert.equal(body.error.code, code);
        assert.match(body.error.message, message);
      });
    }
  });

  test('the largest document the limits allow is refused up front when the default embedder cannot embed it by the deadline', async () => {
    // use-lite embeds ~5,000 characters a second on 2 cores at best: 1,000,000 need minutes against
    // the 120 s ingest deadline. It waited out the deadline for a 503 no retry could turn into success.
    const text = 'Otters hold hands while they sleep so that they do not drift apart. '.repeat(15_000).slice(0, 1_000_000);
    const res = await server.post('/v1/documents', { namespace: 'bad-input', documents: [{ id: 'largest', text }] });
    const body = await res.json();
    // A machine fast enough would ingest it: never a 503/504 after the whole deadline either way.
    if (res.status === 200) return;
    assert.equal(res.status, 413, JSON.stringify(body));
    assert.equal(body.error.code, 'too_large_for_deadline');
    assert.ok(body.error.max_chars < 1_000_000);
  });

  test('property: random bodies on every route never give a 5xx but a documented 503/504', async () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.array(fc.record({ role: fc.constantFrom('user', 'system', 'assistant', 'x'), content: fc.string() }), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxKeys: 3 }),
    );
    const keys = fc.constantFrom('text', 'query', 'messages', 'input', 'model', 'namespace', 'top_k', 'filter', 'mode', 'documents', 'stream', 'rerank', 'user_id', '__proto__', 'constructor');
    const body = fc.oneof(
      fc.dictionary(keys, value, { maxKeys: 5 }).map((o) => JSON.stringify(o)),
      fc.json(),
      fc.string(),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), body, async (route, payload) => {
        const res = await fetch(`${server.url}${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-pronto-deadline-ms': '3000' },
          body: payload,
        });
        const text = await res.text();
        // Overload (a loaded machine) is a documented 503 with Retry-After, a missed deadline a 504.
        const documented =
          res.status < 500 ||
          (res.status === 503 && res.headers.has('retry-after') && ['overloaded', 'not_ready', 'circuit_open'].includes(JSON.parse(text).error.code)) ||
          (res.status === 504 && JSON.parse(text).error.code === 'deadline_exceeded');
        assert.ok(documented, `${route} answered ${res.status} ${text.slice(0, 200)} to ${String(payload).slice(0, 200)}`);
      }),
      { numRuns: 150 },
    );
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200, 'the process is still up');
  });
});
