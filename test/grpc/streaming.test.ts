import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { errorDetails, type ProntoClient, startGrpcTestServer, STREAM_MODELS, unary } from '../support/grpc.js';
import { cancelledGenerations, expectOneMoreCancelledGeneration, metricValue, type TestServer } from '../support/server.js';

describe('gRPC: Chat streaming, deadlines and cancellation', () => {
  let server: TestServer;
  let client: ProntoClient;
  before(async () => {
    ({ server, client } = await startGrpcTestServer({
      models: STREAM_MODELS,
      pipeline: { embedder: 'sim', generator: 'slow-gen' },
      // Retrieval waits 400 ms on its way; the deadline tests rely on it, the others do not mind.
      faults: { retrieve: { mode: 'delay', delay_ms: 400 } },
      deadline: { max_ms: 20_000, budgets: { retrieve: 10_000 } },
    }));
  });
  after(async () => {
    client?.close();
    await server?.close();
  });

  const generated = () => metricValue(server.url, 'pronto_generated_tokens_total', { model: 'slow-gen' });
  const counted = (method: string, status: string) => metricValue(server.url, 'pronto_http_requests_total', { method: 'GRPC', route: `/pronto.v1.Pronto/${method}`, status });

  test('Chat streams contexts, then tokens (the first before generation ends), then done', async () => {
    const before = await generated();
    const call = client.Chat({ text: 'tell me about streaming answers please', max_tokens: 40 });
    const events: string[] = [];
    let generatedAtFirstToken = -1;
    let done: any;
    for await (const event of call) {
      events.push(event.event);
      if (event.event === 'token' && generatedAtFirstToken < 0) generatedAtFirstToken = await generated();
      if (event.event === 'done') done = event.done;
    }
    assert.equal(events[0], 'contexts');
    assert.equal(events.at(-1), 'done');
    assert.equal(events.filter((e) => e === 'token').length, 40);
    // The generator counts its tokens when it finishes: it had not finished at the first token.
    assert.equal(generatedAtFirstToken, before);
    assert.equal(await generated(), before + 40);
    assert.equal(done.model, 'slow-gen');
    assert.ok(done.timings.generate > 0 && done.latency_ms > 0);
    assert.ok(done.usage.completion_tokens > 0);
  });

  test('a client cancel stops generation and frees the slot', async () => {
    const before = await generated();
    const cancelledBefore = await cancelledGenerations(server.url);
    const call = client.Chat({ text: 'a long answer please', max_tokens: 40 });
    const seen = await new Promise<string[]>((resolve) => {
      const types: string[] = [];
      call.on('data', (event: any) => {
        types.push(event.event);
        if (event.event === 'token') {
          call.cancel();
          resolve(types);
        }
      });
      call.on('error', () => undefined);
    });
    assert.deepEqual(seen, ['contexts', 'token']);
    await expectOneMoreCancelledGeneration(server.url, cancelledBefore);
    assert.equal(await generated(), before, 'the 40-token answer was never completed');
    assert.equal(await metricValue(server.url, 'pronto_http_in_flight'), 0, 'the call released its slot');
    assert.ok((await counted('Chat', '499')) >= 1);
  });

  test('the gRPC deadline is the request deadline: the server stops and counts a 504', async () => {
    const before = await counted('Infer', '504');
    const err = await unary(client, 'Infer', { text: 'What is pronto?' }, new grpc.Metadata(), { deadline: Date.now() + 150 }).catch((e) => e);
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    for (let i = 0; i < 100 && (await counted('Infer', '504')) === before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await counted('Infer', '504'), before + 1, 'the server ended the request at the client deadline');
  });

  test('deadline.max_ms caps a longer gRPC deadline; DEADLINE_EXCEEDED says what was done', async () => {
    const { server: capped, client: cappedClient } = await startGrpcTestServer({
      models: STREAM_MODELS,
      pipeline: { embedder: 'sim', generator: 'extractive' },
      faults: { retrieve: { mode: 'delay', delay_ms: 5000 } },
      deadline: { max_ms: 200, budgets: { retrieve: 10_000 } },
    });
    try {
      const err = await unary(cappedClient, 'Search', { query: 'anything', namespace: 'default' }, new grpc.Metadata(), { deadline: Date.now() + 30_000 }).catch((e) => e);
      assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
      const details = errorDetails(err);
      assert.equal(details.reason, 'deadline_exceeded');
      assert.ok('sanitize' in JSON.parse(details.metadata.completed_stages), 'lists the stages done');
    } finally {
      cappedClient.close();
      await capped.close();
    }
  });
});
