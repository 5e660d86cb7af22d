import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../../src/config/schema.js';
import { createKey } from '../../src/config/keys.js';
import { type ProntoClient, startGrpcTestServer, STREAM_MODELS, withKey } from '../support/grpc.js';
import { type TestServer } from '../support/server.js';

const VARIANTS = [
  { name: 'control', weight: 1 },
  { name: 'sparse', weight: 1, retrieval: { default_mode: 'sparse' } },
] as unknown as Config['variants'];

interface Outcome {
  response?: any;
  error?: grpc.ServiceError;
  /** The call's trailing metadata (a failed call's is its error's). */
  trailer: grpc.Metadata;
}

/** A unary call with what it ended with: its response or error, and the trailing metadata. */
function call(client: Record<string, any>, method: string, request: unknown, metadata: grpc.Metadata): Promise<Outcome> {
  return new Promise((resolve) => {
    let response: unknown;
    const pending = client[method](request, metadata, (err: grpc.ServiceError | null, res: unknown) => {
      if (err) resolve({ error: err, trailer: err.metadata });
      else response = res;
    });
    pending.on('status', (status: grpc.StatusObject) => {
      if (status.code === grpc.status.OK) resolve({ response, trailer: status.metadata });
    });
  });
}

const value = (metadata: grpc.Metadata, name: string) => metadata.get(name)[0] as string | undefined;

/**
 * What HTTP says in response headers, gRPC says in trailing metadata: the IETF RateLimit fields,
 * the pipeline variant (calls are split as their HTTP twins are), and where a result came from.
 */
describe('gRPC trailers: rate limit, variant and cache outcome, as the HTTP headers', () => {
  const limited = createKey({ tenant: 'trailers', id: 'limited', limits: { requests_per_s: 0.05, burst: 3 } });
  const chooser = createKey({ tenant: 'trailers', id: 'chooser', allow_variant_override: true });
  const plain = createKey({ tenant: 'trailers', id: 'plain' });
  let server: TestServer;
  let client: ProntoClient;

  before(async () => {
    ({ server, client } = await startGrpcTestServer({
      models: STREAM_MODELS,
      pipeline: { embedder: 'sim', generator: 'extractive' },
      variants: VARIANTS,
      auth: { keys: [limited.record, chooser.record, plain.record] },
    }));
  });
  after(async () => {
    client?.close();
    await server?.close();
  });

  test("a limited key's calls carry RateLimit-Policy and RateLimit; the refused one too", async () => {
    const first = await call(client, 'Search', { query: 'What is pronto?' }, withKey(limited.key));
    assert.ok(first.response, String(first.error));
    assert.equal(value(first.trailer, 'ratelimit-policy'), '"key";q=3;w=60');
    assert.match(value(first.trailer, 'ratelimit') ?? '', /^"key";r=2;t=\d+$/);
    await call(client, 'Search', { query: 'What is pronto?' }, withKey(limited.key));
    await call(client, 'Search', { query: 'What is pronto?' }, withKey(limited.key));
    const refused = await call(client, 'Search', { query: 'What is pronto?' }, withKey(limited.key));
    assert.equal(refused.error?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(value(refused.trailer, 'ratelimit') ?? '', /^"key";r=0;t=\d+$/);
    const free = await call(client, 'Search', { query: 'What is pronto?' }, withKey(chooser.key));
    assert.equal(value(free.trailer, 'ratelimit'), undefined, 'a key with no limit has none to report');
  });

  test('the variant: sticky per user_id as over HTTP, forced by metadata for a key allowed to', async () => {
    const asked = { text: 'What is a stage budget?', user_id: 'user-7' };
    const viaGrpc = await call(client, 'Infer', asked, withKey(chooser.key));
    const variant = value(viaGrpc.trailer, 'x-pronto-variant');
    assert.ok(variant === 'control' || variant === 'sparse', String(variant));
    const viaHttp = await server.post('/v1/infer', asked, { authorization: `Bearer ${chooser.key}` });
    assert.equal(viaHttp.headers.get('x-pronto-variant'), variant, 'the same caller gets the same variant on both transports');
    await viaHttp.text();
    const other = variant === 'control' ? 'sparse' : 'control';
    const forced = withKey(chooser.key);
    forced.set('x-pronto-variant', other);
    assert.equal(value((await call(client, 'Search', { query: 'q' }, forced)).trailer, 'x-pronto-variant'), other);
    const refusedForce = withKey(plain.key);
    refusedForce.set('x-pronto-variant', other);
    const refused = await call(client, 'Search', { query: 'q' }, refusedForce);
    assert.equal(refused.error?.code, grpc.status.PERMISSION_DENIED, 'a key not allowed to choose a variant');
  });

  test('the cache outcome: miss, then memory for the same request', async () => {
    const asked = { text: 'How does pronto degrade?', user_id: 'user-cache' };
    assert.equal(value((await call(client, 'Infer', asked, withKey(chooser.key))).trailer, 'x-pronto-cache'), 'miss');
    assert.equal(value((await call(client, 'Infer', asked, withKey(chooser.key))).trailer, 'x-pronto-cache'), 'memory');
  });

  test('Chat, a server stream, ends with the same trailers', async () => {
    const stream = client.Chat({ text: 'What is pronto?', user_id: 'user-7' }, withKey(chooser.key));
    stream.on('data', () => undefined);
    const status: grpc.StatusObject = await new Promise((resolve) => stream.on('status', resolve));
    assert.equal(status.code, grpc.status.OK);
    assert.ok(['control', 'sparse'].includes(value(status.metadata, 'x-pronto-variant') ?? ''));
    assert.ok(['miss', 'memory'].includes(value(status.metadata, 'x-pronto-cache') ?? ''));
  });
});
