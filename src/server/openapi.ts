import { isDeepStrictEqual } from 'node:util';
import type { SwaggerOptions } from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { DEADLINE_HEADER } from './plugins/request-context.js';

type Json = Record<string, any>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/**
 * The OpenAPI document at /docs. Routes describe their own bodies and responses; what every route
 * shares is added here, once: the headers (request id, Server-Timing, Retry-After, rate limits,
 * the deadline header), bearer security on /v1, an operationId for each operation that names
 * none, and named component schemas (every schema with a `title` is hoisted to
 * `components.schemas.<title>` and referenced from where it was used).
 */
export function openApiOptions(config: Config, version: string): SwaggerOptions {
  return {
    openapi: {
      // 3.1: JSON Schema 2020-12, so the job body's if/then (the input schema per kind) is valid here.
      openapi: '3.1.0',
      info: {
        title: 'pronto',
        version,
        description:
          'Real-time RAG chat, search and embeddings. Errors are {"error":{"code","message","field?"}}; ' +
          'on the OpenAI-compatible routes they also carry OpenAI\'s "type" and "param".',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key from auth.api_keys (needed only when keys are configured)' },
        },
      },
    },
    transformObject: (documents) => completeDocument((documents as { openapiObject: Json }).openapiObject, config),
  };
}

function completeDocument(document: Json, config: Config): Json {
  document.components ??= {};
  document.components.headers = sharedHeaders();
  for (const [path, item] of Object.entries(document.paths ?? {}) as Array<[string, Json]>) {
    for (const method of HTTP_METHODS) {
      const operation = item[method] as Json | undefined;
      if (operation) completeOperation(operation, method, path, config);
    }
  }
  hoistTitledSchemas(document);
  return document;
}

function sharedHeaders(): Json {
  const header = (description: string, schema: Json = { type: 'string' }) => ({ description, schema });
  const headers: Json = {
    RequestId: header('The request id (yours from x-request-id when valid, else generated); in every log line about the request'),
    ServerTiming: header('Milliseconds spent in each pipeline stage, e.g. `embed;dur=3.1, retrieve;dur=1.2`'),
    RetryAfter: header('Seconds to wait before retrying', { type: 'integer' }),
  };
  // Any key may carry a request limit (and a reload may add one): documented on every API response.
  headers.RateLimitPolicy = header(
    'When a request limit applies to the caller (draft-ietf-httpapi-ratelimit-headers): `"key";q=<requests>;w=<window s>` (the key\'s own) or `"default";...` (rate_limit)',
  );
  headers.RateLimit = header('What is left of it: `"key";r=<requests left>;t=<seconds until the window resets>`');
  return headers;
}

function completeOperation(operation: Json, method: string, path: string, config: Config): void {
  operation.operationId ??= operationIdFor(method, path);
  const api = path.startsWith('/v1/');
  if (api) {
    operation.security = [{ bearer: [] }];
    operation.parameters = [
      ...(operation.parameters ?? []),
      {
        name: DEADLINE_HEADER,
        in: 'header',
        required: false,
        description: `Deadline for this request in milliseconds (default ${config.deadline.default_ms}, at most ${config.deadline.max_ms})`,
        schema: { type: 'number', exclusiveMinimum: 0 },
      },
    ];
  } else {
    operation.security = [];
  }
  for (const [status, response] of Object.entries(operation.responses ?? {}) as Array<[string, Json]>) {
    const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
    const headers: Json = { 'x-request-id': ref('RequestId'), ...response.headers };
    if (api) headers['Server-Timing'] = ref('ServerTiming');
    if (status === '429' || status === '503') headers['Retry-After'] = ref('RetryAfter');
    if (api) {
      headers['RateLimit-Policy'] = ref('RateLimitPolicy');
      headers['RateLimit'] = ref('RateLimit');
    }
    response.headers = headers;
  }
}

/** `POST /v1/chat/completions` → `postV1ChatCompletions`; `GET /v1/jobs/{id}` → `getV1JobsById`. */
export function operationIdFor(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith('{') ? `by-${part.slice(1, -1)}` : part))
    .flatMap((part) => part.split(/[-_.]/))
    .filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/**
 * Moves every schema with a `title` to `components.schemas.<title>` and puts a `$ref` in its
 * place. Two different schemas under one title are a bug in the routes: it throws, naming it.
 */
function hoistTitledSchemas(document: Json): void {
  const components: Json = (document.components.schemas ??= {});
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) out[key] = visit(value);
    const title = out.title;
    if (typeof title !== 'string' || !('type' in out || 'anyOf' in out || 'oneOf' in out)) return out;
    const known = components[title];
    if (known !== undefined && !isDeepStrictEqual(known, out)) throw new Error(`OpenAPI: two different schemas are titled ${title}`);
    components[title] = out;
    return { $ref: `#/components/schemas/${title}` };
  };
  document.paths = visit(document.paths);
}

/**
 * @fastify/websocket hides every WebSocket route from the document; ours are part of the API.
 * Register after @fastify/websocket and before @fastify/swagger: onRoute hooks run in that order.
 */
export function documentWebSocketRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.websocket && route.schema) route.schema.hide = false;
  });
}
