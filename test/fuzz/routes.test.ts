import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fc from 'fast-check';
import { ERROR_CATALOGUE } from '../../src/core/errors.js';
import { WEBSOCKET_ROUTE, documentedRoutes, pathVariants, rawRequest, type RawResponse, type RouteRef } from '../support/routes.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The server against whatever a client or an attacker may send, on every route: spellings of each
 * path, methods, keys, content types, deadlines, request ids, and bodies from valid to hostile
 * (fields of the wrong type or size, unknown fields, `__proto__`, NULs and lone surrogates, invalid
 * UTF-8, truncated JSON, deep nesting, bodies over the limit). `npm run test:fuzz`; a failure prints
 * fast-check's seed and path: FUZZ_SEED=<seed> replays it.
 */

const KEY = 'fuzz-key-000000';
const CASES = Number(process.env.FUZZ_RUNS ?? 10_000);
const LIMITS = { body: 64 * 1024, text: 2000, document: 1000, deadline: 5000, ingest: 15_000 };
/** Waiting longer than this (for /healthz, or past a deadline) is a stall (a bound, not a latency goal). */
const HEALTHZ_STALL_MS = 2000;
/** The rule: no answer later than its deadline plus this. */
const DEADLINE_SLACK_MS = 100;

/** Overload and deadlines are the only 5xx a client may see, each with its documented code. */
const DOCUMENTED_5XX: Record<number, string[]> = {
  503: ['overloaded', 'not_ready', 'circuit_open', 'shutting_down'],
  504: ['deadline_exceeded'],
};

const nastyString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'hello world',
      'How are stages budgeted?',
      'a\u0000b',
      'x\ud800y',
      '\udc00',
      '123-45-6789',
      'mail me at a@example.com',
      '4111 1111 1111 1111',
      '__proto__',
      '../../etc/passwd',
      '%00',
      'default',
      'x'.repeat(LIMITS.text + 1),
      'word '.repeat(LIMITS.document / 5 + 1),
    ),
  },
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(nastyString, { maxLength: 3 }),
  fc.dictionary(nastyString, nastyString, { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
const messages = fc.array(fc.record({ role: fc.constantFrom('user', 'system', 'assistant', 'robot'), content: nastyString }), { minLength: 0, maxLength: 4 });
const namespace = maybe(fc.constantFrom('default', 'fuzz', 'nope', 'bad ns', '123-45-6789', 'x'.repeat(65)));
const filter = maybe(fc.oneof(fc.constant({ lang: 'en' }), fc.constant({ n: { gte: 1 } }), fc.dictionary(nastyString, anyValue, { maxKeys: 2 })));

/** A plausible body per route: valid often, wrong in one way or another just as often. */
const BODIES: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  '/v1/infer': fc.record({ text: nastyString, namespace, top_k: maybe(fc.integer({ min: -1, max: 200 })), filter, user_id: maybe(nastyString), max_tokens: maybe(fc.integer({ min: 0, max: 4096 })) }),
  '/v1/chat': fc.record({ messages: maybe(messages), text: maybe(nastyString), stream: maybe(fc.boolean()), namespace, top_k: maybe(fc.integer({ min: 0, max: 10 })), flow: maybe(fc.constantFrom('decompose', 'nope')) }),
  '/v1/search': fc.record({ query: nastyString, top_k: maybe(fc.integer({ min: -1, max: 200 })), namespace, filter, mode: maybe(fc.constantFrom('dense', 'sparse', 'hybrid', 'other')), rerank: maybe(fc.boolean()) }),
  '/v1/embeddings': fc.record({ input: fc.oneof(nastyString, fc.array(nastyString, { maxLength: 20 })), model: maybe(fc.constantFrom('use-lite', 'extractive', 'gpt-9')) }),
  '/v1/chat/completions': fc.record({ model: fc.constantFrom('extractive', 'use-lite', 'gpt-9'), messages, stream: maybe(fc.boolean()), max_tokens: maybe(fc.integer({ min: 0, max: 4096 })), temperature: maybe(fc.double({ min: -1, max: 3 })) }),
  '/v1/documents': fc.record({
    namespace,
    documents: fc.array(
      fc.record({ id: fc.oneof(fc.constantFrom('d1', 'd2', 'a/b', '123-45-6789'), nastyString), text: nastyString, title: maybe(nastyString), metadata: maybe(fc.dictionary(nastyString, anyValue, { maxKeys: 3 })) }),
      { maxLength: 3 },
    ),
  }),
  '/v1/feedback': fc.record({ request_id: nastyString, rating: fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constantFrom('up', 'down')), comment: maybe(nastyString) }),
  '/v1/jobs': fc.record({
    kind: fc.constantFrom('infer', 'chat', 'embed', 'ingest', 'flow', 'mine'),
    input: fc.oneof(fc.record({ text: nastyString }), fc.record({ text: nastyString, flow: fc.constantFrom('decompose', 'nope', '') }), fc.record({ texts: fc.array(nastyString, { maxLength: 3 }) }), fc.dictionary(nastyString, anyValue, { maxKeys: 3 })),
    // Loopback literals and malformed URLs only: tests never point a callback anywhere else (the
    // private-address guard is tested by what it refuses, in callbacks.test.ts).
    callback_url: maybe(fc.constantFrom('http://127.0.0.1:9/cb', 'http://[::1]:9/x', 'ftp://127.0.0.1/', 'not a url', '')),
    idempotency_key: maybe(nastyString),
    priority: maybe(fc.integer({ min: 0, max: 11 })),
  }),
};

/** A body turned hostile at the byte level, or left as it is. */
type BodyShape = 'as-is' | 'unknown-field' | 'proto' | 'truncated' | 'invalid-utf8' | 'nested' | 'oversize' | 'random-json' | 'empty';
const bodyShape = fc.constantFrom<BodyShape>('as-is', 'as-is', 'as-is', 'as-is', 'unknown-field', 'proto', 'truncated', 'invalid-utf8', 'nested', 'oversize', 'random-json', 'empty');

function encodeBody(body: Record<string, unknown>, shape: BodyShape, cut: number, json: unknown): Buffer {
  const text = JSON.stringify(body);
  switch (shape) {
    case 'as-is':
      return Buffer.from(text);
    case 'unknown-field':
      return Buffer.from(JSON.stringify({ ...body, tokp: 5 }));
    case 'proto':
      return Buffer.from(text.replace(/^\{/, '{"__proto__":{"admin":true},'));
    case 'truncated':
      return Buffer.from(text.slice(0, Math.floor(cut * text.length)));
    case 'invalid-utf8': {
      const bytes = Buffer.from(text);
      const at = Math.floor(cut * bytes.length);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([0xc3, 0x28, 0xff]), bytes.subarray(at)]);
    }
    case 'nested': {
      // One of the body's values (which one follows `cut`) becomes arrays nested 16 to 20,000 deep.
      const depth = 16 + Math.floor(cut * 20_000);
      const values = [...text.matchAll(/:(null|true|false|-?\d[^,}\]]*|"(?:[^"\\]|\\.)*")/g)];
      const at = values[Math.floor(cut * values.length)];
      if (!at) return Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`);
      return Buffer.from(`${text.slice(0, at.index + 1)}${'['.repeat(depth)}${']'.repeat(depth)}${text.slice(at.index + at[0].length)}`);
    }
    case 'oversize':
      return Buffer.from(JSON.stringify({ ...body, pad: 'p'.repeat(LIMITS.body) }));
    case 'random-json':
      return Buffer.from(JSON.stringify(json));
    case 'empty':
      return Buffer.alloc(0);
  }
}

type Auth = 'key' | 'x-api-key' | 'none' | 'wrong' | 'empty-bearer';
const AUTH_HEADERS: Record<Auth, Record<string, string>> = {
  key: { authorization: `Bearer ${KEY}` },
  'x-api-key': { 'x-api-key': KEY },
  none: {},
  wrong: { authorization: `Bearer ${KEY.slice(0, -1)}x` },
  'empty-bearer': { authorization: 'Bearer ' },
};

describe(`fuzz: ${CASES} requests across every route keep the server's promises`, () => {
  let server: TestServer;
  let routes: RouteRef[];
  const stalls: string[] = [];
  let probes = 0;
  let probing = true;
  let prober: Promise<void>;

  before(async () => {
    server = await startTestServer({
      auth: { api_keys: [{ key: KEY, tenant: 'fuzz' }] },
      server: { body_limit_bytes: LIMITS.body },
      limits: { max_text_chars: LIMITS.text, max_embedding_inputs: 16 },
      retrieval: { max_document_chars: LIMITS.document, max_documents_per_request: 8 },
      deadline: { default_ms: LIMITS.deadline, max_ms: LIMITS.ingest, ingest_ms: LIMITS.ingest },
      sample_corpus: { enabled: false },
    });
    routes = await documentedRoutes(server.url);
    const seeded = await server.post(
      '/v1/documents',
      { documents: [{ id: 'deadlines', text: 'Each stage gets a budget. A request has a deadline.' }, { id: 'batching', text: 'Models batch requests.' }] },
      AUTH_HEADERS.key,
    );
    assert.equal(seeded.status, 200, await seeded.text());
    // /healthz answers throughout: polled the whole run, each probe within HEALTHZ_STALL_MS.
    prober = (async () => {
      while (probing) {
        const started = performance.now();
        try {
          const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(HEALTHZ_STALL_MS) });
          await res.text();
          if (res.status !== 200) stalls.push(`/healthz answered ${res.status}`);
        } catch (err) {
          stalls.push(`/healthz failed after ${Math.round(performance.now() - started)} ms: ${(err as Error).message}`);
        }
        probes++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
  });
  after(async () => {
    probing = false;
    await prober;
    await server.close();
  });

  test('no 5xx but documented overload/deadline answers, no bypass, clear errors, answers by the deadline', async (t) => {
    const statuses: Record<string, number> = {};
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    t.after(() => loopDelay.disable());
    const owned = Object.keys(BODIES);
    const anyBody = fc.oneof(...Object.values(BODIES));
    // A route and, most of the time, a body of its own shape (else any route's).
    const routeAndBody = fc
      .constantFrom(...routes)
      .chain((route) => fc.record({ route: fc.constant(route), body: owned.includes(route.path) ? fc.oneof({ weight: 4, arbitrary: BODIES[route.path] }, { weight: 1, arbitrary: anyBody }) : anyBody }));
    const request = fc.record({
      target: routeAndBody,
      spelling: fc.oneof(
        { weight: 6, arbitrary: fc.constant(-1) },
        { weight: 3, arbitrary: fc.nat(13) },
        { weight: 1, arbitrary: fc.constant(-2) },
      ),
      junk: fc.constantFrom('/v1/%ZZ', '/v1/%00', '/%2e%2e/v1/jobs', `/v1/${'a'.repeat(5000)}`, '/v1/documents/%F0%9F%98%80', '//v1///infer', '/v1/jobs/..%2f..%2fmetrics'),
      method: fc.oneof({ weight: 9, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') }),
      auth: fc.constantFrom<Auth>('key', 'key', 'key', 'x-api-key', 'none', 'wrong', 'empty-bearer'),
      contentType: fc.constantFrom('application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', ''),
      deadline: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 3000 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom('0', '-5', 'soon', '1e9', '99999999') }),
      requestId: maybe(fc.oneof(fc.constantFrom('123-45-6789', 'req-1', 'a'.repeat(200)), nastyString)),
      shape: bodyShape,
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
      json: fc.jsonValue({ maxDepth: 4 }),
    });

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const { route, body } = r.target;
        const method = r.method || route.method;
        const variants = pathVariants(route.path);
        const path = r.spelling === -2 ? r.junk : r.spelling >= 0 ? variants[r.spelling % variants.length] : route.path;
        const hasBody = method !== 'GET' && method !== 'HEAD' && (method !== 'DELETE' || r.shape !== 'as-is');
        const headers: Record<string, string> = { ...AUTH_HEADERS[r.auth] };
        if (hasBody) headers['content-type'] = r.contentType || 'application/octet-stream';
        if (r.deadline !== undefined) headers['x-pronto-deadline-ms'] = r.deadline;
        if (r.requestId !== undefined && /^[\x20-\x7e]*$/.test(r.requestId)) headers['x-request-id'] = r.requestId;
        const websocket = route.path === WEBSOCKET_ROUTE.path && method === 'GET';

        loopDelay.reset();
        const started = performance.now();
        const res = await rawRequest(server.url, method, path, { headers, body: hasBody ? encodeBody(body, r.shape, r.cut, r.json) : undefined, websocket });
        const elapsed = performance.now() - started;
        const what = `${method} ${path.slice(0, 120)} [${r.auth}, ${r.shape}] → ${res.status} ${res.body.slice(0, 300)}`;
        const keyed = r.auth === 'key' || r.auth === 'x-api-key';
        statuses[res.upgraded ? 101 : res.status] = (statuses[res.upgraded ? 101 : res.status] ?? 0) + 1;

        // No auth bypass: without a valid key, nothing but an operational route (as spelled) answers.
        if (!keyed && (!route.operational || r.spelling === -2)) {
          assert.ok(!res.upgraded, `opened a WebSocket without a key: ${what}`);
          assert.ok(res.status === 401 || res.status === 400, `answered without a key: ${what}`);
        }
        if (res.upgraded) return;

        // No 5xx but the documented ones; 503 and 429 say when to come back.
        const error = errorOf(res);
        if (res.status >= 500) {
          assert.ok(DOCUMENTED_5XX[res.status]?.includes(error?.code ?? ''), `undocumented ${res.status}: ${what}`);
        }
        if (res.status === 503 || res.status === 429) assert.ok(res.headers['retry-after'], `no Retry-After: ${what}`);

        // Errors say what is wrong: a catalogue code, a message, and the field when one is at fault.
        if (res.status >= 400 && method !== 'HEAD') {
          assert.ok(error, `error without an error body: ${what}`);
          assert.ok(error.code in ERROR_CATALOGUE, `unknown error code: ${what}`);
          assert.ok(typeof error.message === 'string' && error.message.length > 0, `no message: ${what}`);
          if (error.code === 'unknown_field') assert.ok(error.field, `unknown_field without the field: ${what}`);
        }
        assert.ok(res.headers['x-request-id'], `no x-request-id: ${what}`);

        // An API request (it ran under a deadline: its answer has Server-Timing) is answered by its
        // deadline plus the slack, whatever it carried, by the server's own clock (Server-Timing
        // total, from the deadline's start). On a shared, loaded machine the deadline's own timer
        // fires late by the event loop's delay: that delay is added to the slack (a process that
        // blocks its loop for long is caught by the /healthz stall bound instead). The client's
        // clock adds the machine's scheduling: it is held to the stall bound only.
        const serverTotal = /total;dur=([\d.]+)/.exec(String(res.headers['server-timing']))?.[1];
        if (serverTotal !== undefined) {
          const asked = Number(r.deadline);
          const budget = route.path === '/v1/documents' && method === 'POST' ? LIMITS.ingest : LIMITS.deadline;
          const deadline = Number.isInteger(asked) && asked >= 1 ? Math.min(asked, budget) : budget;
          const lagMs = loopDelay.max / 1e6;
          assert.ok(
            Number(serverTotal) <= deadline + DEADLINE_SLACK_MS + lagMs,
            `answered after ${serverTotal} ms, deadline ${deadline} ms (event-loop delay ${Math.round(lagMs)} ms): ${what}`,
          );
          assert.ok(elapsed <= deadline + HEALTHZ_STALL_MS, `the client waited ${Math.round(elapsed)} ms, deadline ${deadline} ms: ${what}`);
        }
      }),
      { numRuns: CASES, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined, includeErrorInReport: true },
    );
    t.diagnostic(`answers by status (shrinking included): ${JSON.stringify(statuses)}; /healthz probes: ${probes}`);
    probing = false;
    await prober;
    assert.deepEqual(stalls, [], `/healthz stalled (${probes} probes)`);
    assert.ok(probes > 0);
  });
});

function errorOf(res: RawResponse): { code: string; message: string; field?: string } | undefined {
  try {
    return (JSON.parse(res.body) as { error?: { code: string; message: string; field?: string } }).error;
  } catch {
    return undefined;
  }
}
