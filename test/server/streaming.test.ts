import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { cancelledGenerations, expectOneMoreCancelledGeneration, metricValue, readSse, startTestServer, type TestServer } from '../support/server.js';

/** A generator slow enough to watch: 40 tokens, 25 ms apart. */
const MODELS = [
  { name: 'use-lite', role: 'embedder', backend: 'use-lite', warmup: { batch_sizes: [1] } },
  { name: 'extractive', role: 'generator', backend: 'extractive' },
  { name: 'slow-gen', role: 'generator', backend: 'sim', options: { base_ms: 0, per_item_ms: 25, answer_tokens: 40 } },
] as unknown as Config['models'];

describe('streaming and cancellation', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ models: MODELS, pipeline: { generator: 'slow-gen' } });
  });
  after(() => server.close());

  const generated = () => metricValue(server.url, 'pronto_generated_tokens_total', { model: 'slow-gen' });

  test('SSE: the first events arrive before the last token is generated', async () => {
    const before = await generated();
    const res = await server.post('/v1/chat', { text: 'tell me about streaming answers please', max_tokens: 40 });
    const events = readSse(res);
    assert.equal((await events.next()).value?.event, 'contexts');
    assert.equal((await events.next()).value?.event, 'token');
    // The generator counts its tokens when it finishes: it has not finished yet.
    assert.equal(await generated(), before, 'generation still running when the first token arrived');
    let tokens = 1;
    for await (const event of events) if (event.event === 'token') tokens++;
    assert.equal(tokens, 40);
    assert.equal(await generated(), before + 40);
  });

  test('WebSocket: the first token arrives before generation ends', async () => {
    const before = await generated();
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/chat/ws`);
    await new Promise((resolve) => socket.once('open', resolve));
    const seen: string[] = [];
    let generatedAtFirstToken = -1;
    await new Promise<void>((resolve) => {
      socket.on('message', async (raw) => {
        const event = JSON.parse(String(raw));
        seen.push(event.type);
        if (event.type === 'token' && generatedAtFirstToken < 0) generatedAtFirstToken = await generated();
        if (event.type === 'done') resolve();
      });
      socket.send(JSON.stringify({ text: 'stream over websocket' }));
    });
    socket.close();
    assert.equal(generatedAtFirstToken, before);
    assert.equal(seen[0], 'contexts');
  });

  test('a client that disconnects mid-stream stops generation', async () => {
    const before = await generated();
    const cancelledBefore = await cancelledGenerations(server.url);
    const controller = new AbortController();
    const res = await fetch(`${server.url}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'a long answer please', max_tokens: 40 }),
      signal: controller.signal,
    });
    const events = readSse(res);
    await events.next();
    await events.next();
    controller.abort();
    await assert.rejects(events.next());
    await expectOneMoreCancelledGeneration(server.url, cancelledBefore);
    assert.equal(await generated(), before, 'the 40-token answer was never completed');
    assert.equal(await metricValue(server.url, 'pronto_http_in_flight'), 0, 'the request released its slot');
  });
});
