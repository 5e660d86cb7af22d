import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config/load.js';
import { createRuntime } from '../../src/runtime.js';
import { buildApp } from '../../src/server/app.js';
import { WEBSOCKET_ROUTE, documentedRoutes, pathVariants, rawRequest, type RouteRef } from '../support/routes.js';
import { startTestServer, type TestServer } from '../support/server.js';

const KEY = 'route-access-key-0';
const KEY_B = 'route-access-key-1';
const WS_PATH = WEBSOCKET_ROUTE.path;

/** The body each route gets: a valid one would do work, an empty object is enough to reach auth. */
const bodyFor = (route: RouteRef) => (route.method === 'POST' ? '{}' : undefined);

describe('protection is decided by the matched route, never by the raw URL', () => {
  let server: TestServer;
  let routes: RouteRef[];
  before(async () => {
    server = await startTestServer({
      auth: {
        api_keys: [
          { key: KEY, tenant: 'team-a' },
          { key: KEY_B, tenant: 'team-b' },
        ],
      },
    });
    routes = await documentedRoutes(server.url);
  });
  after(() => server.close());

  test('the OpenAPI output lists the API routes (so the tests below cover every route)', () => {
    for (const path of ['/v1/jobs', '/v1/documents', '/v1/feedback', '/v1/models', '/v1/infer']) {
      assert.ok(routes.some((r) => r.path === path), `${path} is documented`);
    }
    assert.ok(routes.some((r) => r.path === '/healthz' && r.operational));
  });

  test('every spelling of every API route needs a key; none answers 2xx or 5xx without one', async () => {
    for (const route of routes.filter((r) => !r.operational)) {
      const websocket = route.path === WS_PATH;
      for (const path of [route.path, ...pathVariants(route.path)]) {
        const res = await rawRequest(server.url, route.method, path, { body: bodyFor(route), websocket });
        assert.equal(res.upgraded, false, `${route.method} ${path} opened a WebSocket without a key`);
        assert.equal(res.status, 401, `${route.method} ${path} answered ${res.status} without a key: ${res.body}`);
        assert.equal(JSON.parse(res.body).error.code, 'unauthorized');
      }
    }
  });

  test('with the key the same spellings are served or refused as input, never a 500', async () => {
    const headers = { authorization: `Bearer ${KEY}` };
    for (const route of routes.filter((r) => !r.operational && r.path !== WS_PATH)) {
      for (const path of [route.path, ...pathVariants(route.path)]) {
        const res = await rawRequest(server.url, route.method, path, { headers, body: bodyFor(route) });
        assert.ok(res.status < 500, `${route.method} ${path} answered ${res.status}: ${res.body}`);
      }
    }
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/%761/chat/ws`, { headers });
    await once(ws, 'open'); // an encoded WebSocket path is the same route, opened with a key
    ws.close();
    await once(ws, 'close');
  });

  test('a URL that matches no route needs a key too (deny by default)', async () => {
    const res = await rawRequest(server.url, 'GET', '/v2/anything');
    assert.equal(res.status, 401);
    const known = await rawRequest(server.url, 'GET', '/v2/anything', { headers: { 'x-api-key': KEY } });
    assert.equal(known.status, 404);
  });

  test('with keys, every key reaches the sample corpus: each tenant has its own copy', async () => {
    for (const key of [KEY, KEY_B]) {
      const res = await server.post('/v1/search', { query: 'How does pronto degrade when a stage is too slow?' }, { authorization: `Bearer ${key}` });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.ok(body.hits.length > 0, 'the default namespace holds the sample corpus');
    }
    const [doc] = (await (await server.post('/v1/search', { query: 'deadlines' }, { authorization: `Bearer ${KEY}` })).json()).hits;
    const deleted = await fetch(`${server.url}/v1/documents/${encodeURIComponent(doc.doc_id)}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(deleted.status, 200, 'a tenant may change its copy');
    const other = await (await server.post('/v1/search', { query: 'deadlines', mode: 'sparse', top_k: 100 }, { authorization: `Bearer ${KEY_B}` })).json();
    assert.ok(other.hits.some((h: { doc_id: string }) => h.doc_id === doc.doc_id), "without touching another tenant's");
  });

  test('operational routes stay open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/', '/ui/dashboard.js', '/ui/uplot.js', '/docs/json']) {
      assert.equal((await rawRequest(server.url, 'GET', path)).status, 200, path);
    }
  });

  test("the dashboard's statistics are operational but need a key in every spelling", async () => {
    for (const route of ['/stats', '/stats/requests', '/stats/requests/some-id']) {
      assert.ok(routes.some((r) => r.path === route && r.operational), `${route} is documented as operational`);
      for (const path of [route, ...pathVariants(route)]) {
        const res = await rawRequest(server.url, 'GET', path);
        assert.equal(res.status, 401, `GET ${path} answered ${res.status} without a key: ${res.body}`);
      }
    }
    // Every tenant's traffic: a tenant key is refused in every spelling too (keys.test.ts has the operator's).
    for (const path of ['/stats', ...pathVariants('/stats')]) {
      const res = await rawRequest(server.url, 'GET', path, { headers: { 'x-api-key': KEY } });
      assert.ok([403, 404].includes(res.status), `GET ${path} answered ${res.status} to a tenant key: ${res.body}`);
    }
    const own = await rawRequest(server.url, 'GET', '/stats/requests', { headers: { 'x-api-key': KEY } });
    assert.equal(own.status, 200, own.body);
  });
});

describe('admission and rate limits are decided by the matched route too', () => {
  test('encoded spellings of an API route are rate limited with the canonical one', async () => {
    const server = await startTestServer({ rate_limit: { enabled: true, max_per_minute: 2 } });
    try {
      const body = JSON.stringify({ query: 'q' });
      assert.equal((await rawRequest(server.url, 'POST', '/v1/search', { body })).status, 200);
      assert.equal((await rawRequest(server.url, 'POST', '/%761/search', { body })).status, 200);
      const limited = await rawRequest(server.url, 'POST', '/v%31/search', { body });
      assert.equal(limited.status, 429, 'the third spelling is over the same limit');
      assert.ok(Number(limited.headers['retry-after']) > 0);
    } finally {
      await server.close();
    }
  });

  test('encoded spellings are refused by admission like the canonical one (503 before models are warm)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pronto-route-access-'));
    const runtime = createRuntime(loadConfig({ env: {}, overrides: { data_dir: dataDir } }), { logger: pino({ level: 'silent' }), defaultMetrics: false });
    const { server } = await buildApp(runtime); // never started: not ready
    try {
      const url = await server.listen({ host: '127.0.0.1', port: 0 });
      for (const path of ['/v1/search', ...pathVariants('/v1/search')]) {
        const res = await rawRequest(url, 'POST', path, { body: '{"query":"q"}' });
        assert.equal(res.status, 503, `${path} answered ${res.status}`);
        assert.equal(res.headers['retry-after'], '1');
      }
      assert.equal((await rawRequest(url, 'GET', '/healthz')).status, 200);
      assert.equal((await rawRequest(url, 'GET', '/stats')).status, 200, 'the dashboard is never shed');
    } finally {
      await server.close();
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
