import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import { after, before, describe, test } from 'node:test';
import { modelConfig } from '../models/helpers.js';
import { startTestServer, type TestServer } from '../support/server.js';

const models = [
  modelConfig({ name: 'sim', role: 'embedder', backend: 'sim', options: { base_ms: 1, per_item_ms: 0.1 } }),
  modelConfig({ name: 'extractive', role: 'generator', backend: 'extractive' }),
];

type Json = Record<string, any>;

/**
 * Every method and path the server answers, from Fastify's own route tree (each line holds its
 * segment, indented four characters per level under its parent). HEAD twins and the docs UI are left out.
 */
function registeredRoutes(server: TestServer): string[] {
  const prefixes: string[] = [];
  const routes: string[] = [];
  for (const line of server.app.server.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^(.*?)[└├]── (\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 4;
    prefixes[depth] = (depth > 0 ? prefixes[depth - 1] : '') + match[2];
    const path = prefixes[depth].replace(/:(\w+)/g, '{$1}');
    if (path.startsWith('/docs')) continue;
    for (const method of match[3].split(', ')) if (method !== 'HEAD') routes.push(`${method} ${path}`);
  }
  return routes.sort();
}

describe('the OpenAPI document at /docs', () => {
  let server: TestServer;
  let document: Json;
  before(async () => {
    server = await startTestServer({
      models,
      pipeline: { embedder: 'sim' },
      sample_corpus: { enabled: false },
      rate_limit: { enabled: true },
      observability: { log_level: 'warn' },
    });
    const res = await fetch(`${server.url}/docs/json`);
    assert.equal(res.status, 200);
    document = (await res.json()) as Json;
  });
  after(() => server?.close());

  test('is a valid OpenAPI 3 document', async () => {
    await SwaggerParser.validate(structuredClone(document) as never);
  });

  test('describes every registered route', () => {
    const documented = Object.entries(document.paths as Json)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((k) => k !== 'parameters')
          .map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    const routes = registeredRoutes(server);
    assert.ok(routes.length > 15, routes.join('\n'));
    assert.deepEqual(
      routes.filter((r) => !documented.includes(r)),
      [],
      'routes missing from the document',
    );
  });

  test('every operation has an operationId, a 2xx schema or content, and the bearer scheme on /v1', () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(document.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(op.operationId, `${where} has no operationId`);
        assert.ok(!ids.has(op.operationId), `${where}: operationId ${op.operationId} is used twice`);
        ids.add(op.operationId);
        const success = Object.entries(op.responses as Json).filter(([status]) => /^[12]\d\d$/.test(status));
        assert.ok(success.length > 0, `${where} has no success response`);
        for (const [status, response] of success) {
          if (status === '101') continue;
          assert.ok(
            response.content && Object.values(response.content as Json).every((media: Json) => media.schema),
            `${where} ${status} has no schema`,
          );
        }
        if (path.startsWith('/v1/')) {
          assert.deepEqual(op.security, [{ bearer: [] }], `${where} security`);
          assert.ok(
            op.parameters?.some((p: Json) => p.name === 'x-pronto-deadline-ms' && p.in === 'header'),
            `${where} deadline header`,
          );
          assert.ok(op.responses['429']?.headers?.['Retry-After'], `${where} 429 Retry-After`);
          assert.ok(success[0][1].headers?.['Server-Timing'], `${where} Server-Timing`);
          assert.ok(success[0][1].headers?.['RateLimit'], `${where} rate-limit headers`);
        }
      }
    }
    assert.deepEqual(document.components.securitySchemes.bearer, {
      type: 'http',
      scheme: 'bearer',
      description: 'An API key from auth.api_keys (needed only when keys are configured)',
    });
  });

  test('names its shared schemas, and documents streams, errors and headers', () => {
    const schemas = document.components.schemas as Json;
    for (const name of [
      'Error',
      'Hit',
      'ChatRequest',
      'ChatCompletion',
      'ChatCompletionChunk',
      'Model',
      'CreateEmbeddingResponse',
      'DocumentBatch',
    ]) {
      assert.ok(schemas[name], `components.schemas.${name}`);
    }
    const paths = document.paths as Json;
    assert.ok(paths['/v1/chat'].post.responses['200'].content['text/event-stream'], '/v1/chat streams');
    assert.ok(paths['/v1/chat/completions'].post.responses['200'].content['text/event-stream'], 'chat completions stream');
    assert.equal(
      paths['/v1/chat/completions'].post.responses['200'].content['application/json'].schema.$ref,
      '#/components/schemas/ChatCompletion',
    );
    assert.ok(paths['/v1/chat/ws'].get.responses['101'], 'the WebSocket upgrade');
    for (const status of ['400', '415', '502', '503', '504']) assert.ok(paths['/v1/search'].post.responses[status], `/v1/search ${status}`);
    assert.ok(paths['/readyz'].get.responses['503'].headers['Retry-After'], '/readyz 503');
    assert.ok(paths['/v1/jobs'].post.responses['202'].headers.location, 'jobs Location');
    assert.ok(paths['/v1/models/{id}'].get.responses['404'], 'model 404');
  });

  test("documents the API key's request-shaping caps on the errors they cause", () => {
    const error = (document.components.schemas as Json).Error.properties.error.properties;
    assert.match(error.limit.description, /max_text_chars/);
    assert.equal(error.max.type, 'integer');
    const search = (document.paths as Json)['/v1/search'].post.responses;
    assert.match(search['400'].description, /top_k.*API key's own cap/);
    assert.match(search['413'].description, /max_body_bytes/);
  });
});
