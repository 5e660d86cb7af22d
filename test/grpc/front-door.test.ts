import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { service as healthService } from 'grpc-health-check';
import type { Config } from '../../src/config/schema.js';
import { errorDetails, prontoClient, unary } from '../support/grpc.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SIM = [
  { name: 'sim', role: 'embedder', backend: 'sim', options: { base_ms: 0, per_item_ms: 0, dimensions: 16 } },
  { name: 'extractive', role: 'generator', backend: 'extractive' },
] as unknown as Config['models'];

function healthClient(port: number) {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  return new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
}

describe('gRPC: health, reflection, admission and the shared rate limit', () => {
  const servers: TestServer[] = [];
  const clients: grpc.Client[] = [];
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((s) => s.close()));
  });
  async function start(overrides: Parameters<typeof startTestServer>[0], options: Parameters<typeof startTestServer>[1] = {}) {
    const server = await startTestServer({ models: SIM, pipeline: { embedder: 'sim' }, sample_corpus: { enabled: false }, ...overrides, server: { grpc_port: 0, ...overrides?.server } }, options);
    servers.push(server);
    return server;
  }

  test('health is SERVING exactly when /readyz is 200; calls before that are UNAVAILABLE with RetryInfo', async () => {
    // A warm-up that takes a while, so the server is seen before it is ready.
    const slow = [{ ...SIM[0], options: { base_ms: 1500, per_item_ms: 0, dimensions: 16 }, warmup: { batch_sizes: [1] } }, SIM[1]] as Config['models'];
    const server = await start({ models: slow }, { waitReady: false });
    const health = healthClient(server.grpc!.port);
    const pronto = prontoClient(server.grpc!.port);
    clients.push(health, pronto);
    const check = (service: string) => unary(health, 'check', { service });

    assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
    assert.equal((await check('')).status, 'NOT_SERVING');
    const early = await unary(pronto, 'Embed', { texts: ['too soon'] }).catch((e) => e);
    assert.equal(early.code, grpc.status.UNAVAILABLE);
    assert.equal(errorDetails(early).reason, 'not_ready');
    assert.equal(errorDetails(early).retryDelayS, 1);

    await server.ready;
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    assert.equal((await check('')).status, 'SERVING');
    assert.equal((await check('pronto.v1.Pronto')).status, 'SERVING');
    assert.deepEqual((await unary(pronto, 'Search', { query: 'now', mode: 'sparse' })).hits, undefined, 'served (an empty namespace: no hits)');
  });

  test('reflection lists the services and describes pronto.v1 without the .proto', async () => {
    const server = await start({});
    const reflectionProto = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto/grpc/reflection/v1/reflection.proto');
    const definition = protoLoader.loadSync(reflectionProto, { keepCase: true, oneofs: true });
    const Reflection = (grpc.loadPackageDefinition(definition) as any).grpc.reflection.v1.ServerReflection;
    const client = new Reflection(`127.0.0.1:${server.grpc!.port}`, grpc.credentials.createInsecure());
    clients.push(client);
    const ask = (request: object) =>
      new Promise<any>((resolve, reject) => {
        const call = client.ServerReflectionInfo();
        call.on('data', (response: any) => {
          resolve(response);
          call.end();
        });
        call.on('error', reject);
        call.write(request);
      });

    const listed = await ask({ list_services: '' });
    const names = listed.list_services_response.service.map((s: { name: string }) => s.name);
    assert.ok(names.includes('pronto.v1.Pronto'), names.join());
    assert.ok(names.includes('grpc.health.v1.Health'), names.join());

    const described = await ask({ file_containing_symbol: 'pronto.v1.Pronto' });
    const files = described.file_descriptor_response.file_descriptor_proto.map((bytes: Buffer) => descriptor.FileDescriptorProto.decode(bytes) as any);
    const pronto = files.find((f: { package: string }) => f.package === 'pronto.v1');
    assert.ok(pronto, 'the descriptor of pronto/v1/pronto.proto');
    const methods = pronto.service[0].method.map((m: { name: string }) => m.name);
    assert.deepEqual(methods, ['Infer', 'Chat', 'Search', 'Embed', 'SubmitJob', 'GetJob']);
    assert.ok((protobuf.Root as any).fromDescriptor({ file: files }).lookupService('pronto.v1.Pronto'), 'a client can be built from reflection alone');
  });

  test('one rate limit spans HTTP and gRPC: RESOURCE_EXHAUSTED with RetryInfo', async () => {
    const server = await start({ rate_limit: { enabled: true, max_per_minute: 2 } });
    const pronto = prontoClient(server.grpc!.port);
    clients.push(pronto);
    assert.equal((await server.post('/v1/embeddings', { input: 'over http' })).status, 200);
    await unary(pronto, 'Embed', { texts: ['over grpc'] });
    const limited = await unary(pronto, 'Embed', { texts: ['one too many'] }).catch((e) => e);
    assert.equal(limited.code, grpc.status.RESOURCE_EXHAUSTED);
    const details = errorDetails(limited);
    assert.equal(details.reason, 'rate_limited');
    assert.ok(details.retryDelayS !== undefined && details.retryDelayS >= 1 && details.retryDelayS <= 60);
    assert.equal((await server.post('/v1/embeddings', { input: 'http is limited too' })).status, 429);
  });

  test('admission counts gRPC calls with HTTP requests: over max_in_flight is UNAVAILABLE', async () => {
    const slowEmbed = [{ ...SIM[0], options: { base_ms: 300, per_item_ms: 0, dimensions: 16 }, batching: { max_batch_size: 1 } }, SIM[1]] as Config['models'];
    const server = await start({ models: slowEmbed, server: { max_in_flight: 1 } });
    const pronto = prontoClient(server.grpc!.port);
    clients.push(pronto);
    const first = server.post('/v1/embeddings', { input: 'holds the only slot' });
    // Wait (bounded) until the HTTP request holds the slot.
    for (let i = 0; i < 100; i++) {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      if (/^pronto_http_in_flight 1$/m.test(text)) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const refused = await unary(pronto, 'Embed', { texts: ['no room'] }).catch((e) => e);
    assert.equal(refused.code, grpc.status.UNAVAILABLE);
    assert.equal(errorDetails(refused).reason, 'overloaded');
    assert.equal((await first).status, 200);
  });
});
