import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FallbackEvent } from '../../src/models/types.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { collect, modelConfig, never, sharedPath, startRuntime } from './helpers.js';

const gguf = sharedPath('models/aidreams260K.gguf');

const openai = (name: string, role: 'embedder' | 'reranker' | 'generator', options: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  modelConfig({ name, role, backend: 'openai', options, warmup: { batch_sizes: [] }, ...extra });

describe('openai backend against a second pronto instance serving llama', { skip: gguf ? false : 'needs ../shared/models/aidreams260K.gguf (absent)' }, () => {
  let upstream: TestServer;
  before(async () => {
    upstream = await startTestServer({
      models: [
        modelConfig({ name: 'tiny', role: 'generator', backend: 'llama', options: { model_path: gguf! }, warmup: { batch_sizes: [1] } }),
        modelConfig({ name: 'tiny-embed', role: 'embedder', backend: 'llama', options: { model_path: gguf! }, warmup: { batch_sizes: [1] } }),
        modelConfig({ name: 'extractive', role: 'generator', backend: 'extractive' }),
      ],
      pipeline: { embedder: 'tiny-embed', generator: 'tiny', fallback_generator: 'extractive' },
      sample_corpus: { enabled: false },
      observability: { log_level: 'warn' },
    });
  });
  after(() => upstream?.close());

  test('embeddings match what the upstream serves; chat streams the same text as a non-streamed call', async () => {
    const base_url = `${upstream.url}/v1`;
    const { runtime } = await startRuntime([
      openai('remote-embed', 'embedder', { base_url, model: 'tiny-embed' }),
      openai('remote-chat', 'generator', { base_url, model: 'tiny' }),
    ]);
    try {
      const [vector] = await runtime.embedder('remote-embed').embed(['a small red fox'], { signal: never() });
      const direct = await (await upstream.post('/v1/embeddings', { model: 'tiny-embed', input: 'a small red fox' })).json();
      assert.equal(vector.length, direct.data[0].embedding.length);
      direct.data[0].embedding.forEach((x: number, i: number) => assert.ok(Math.abs(x - vector[i]) < 1e-5));
      assert.equal(runtime.embedder('remote-embed').dimensions, vector.length);

      const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
      const stream = runtime.generator('remote-chat').generate({ messages, contexts: [], maxTokens: 20, temperature: 0 }, { signal: never() });
      const pieces = await collect(stream);
      assert.ok(pieces.length > 1, 'streamed in several chunks');
      const whole = await (await upstream.post('/v1/chat/completions', { model: 'tiny', messages, max_tokens: 20, temperature: 0 })).json();
      assert.equal(pieces.join(''), whole.choices[0].message.content);
      assert.ok(stream.usage().completion_tokens > 0);
    } finally {
      await runtime.close();
    }
  });
});

/** A tiny OpenAI-wire server whose answers the test scripts (failures first, then success). */
async function scriptedServer(handler: (path: string, body: any, n: number) => { status: number; json?: unknown; sse?: string[] }) {
  let calls = 0;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const answer = handler(req.url ?? '', JSON.parse(raw || '{}'), ++calls);
      if (answer.sse) {
        res.writeHead(answer.status, { 'content-type': 'text/event-stream' });
        for (const event of answer.sse) res.write(`data: ${event}\n\n`);
        res.end();
      } else {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.json ?? {}));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const fast = { retry_initial_delay_ms: 1, retry_max_delay_ms: 5, hedge: false };

test('idempotent calls are retried after transient failures; a streamed chat is not', async () => {
  const server = await scriptedServer((path, body, n) => {
    if (n <= 2) return { status: 503 };
    if (path.endsWith('/embeddings')) return { status: 200, json: { data: body.input.map((_: string, index: number) => ({ index, embedding: [1, 0, 0] })) } };
    return { status: 200, json: [{ index: 1, score: 0.9 }, { index: 0, score: 0.1 }] };
  });
  const { runtime } = await startRuntime([
    openai('e', 'embedder', { base_url: server.url, ...fast }),
    openai('r', 'reranker', { base_url: server.url, ...fast }),
    openai('g', 'generator', { base_url: server.url, ...fast }),
  ]);
  try {
    const [v] = await runtime.embedder('e').embed(['x'], { signal: never() });
    assert.deepEqual([...v], [1, 0, 0]);
    assert.equal(server.calls(), 3, 'two 503s, then success');
    assert.deepEqual(await runtime.reranker('r').rerank('q', ['a', 'b'], { signal: never() }), [0.1, 0.9]);
    const before = server.calls();
    await collect(runtime.generator('g').generate({ messages: [{ role: 'user', content: 'hi' }], contexts: [], maxTokens: 5 }, { signal: never() }));
    assert.equal(server.calls(), before + 1);
  } finally {
    await runtime.close();
    await server.close();
  }
});

test('chat streaming parses deltas, usage and error events', async () => {
  const chunk = (content: string) => JSON.stringify({ choices: [{ delta: { content } }] });
  let mode = 'ok';
  const server = await scriptedServer((_path, body) => {
    assert.equal(body.stream, true);
    assert.match(body.messages[0].content, /\[1\] The sky is blue/);
    return mode === 'ok'
      ? { status: 200, sse: [chunk('The'), chunk(' sky'), JSON.stringify({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } }), '[DONE]'] }
      : { status: 200, sse: [chunk('The'), JSON.stringify({ error: { message: 'model crashed' } })] };
  });
  const { runtime } = await startRuntime([openai('g', 'generator', { base_url: server.url, ...fast })]);
  const request = { messages: [{ role: 'user' as const, content: 'sky?' }], contexts: [{ id: 'a', text: 'The sky is blue.' }], maxTokens: 5 };
  try {
    const stream = runtime.generator('g').generate(request, { signal: never() });
    assert.deepEqual(await collect(stream), ['The', ' sky']);
    assert.deepEqual(stream.usage(), { prompt_tokens: 7, completion_tokens: 2 });
    mode = 'error';
    await assert.rejects(collect(runtime.generator('g').generate(request, { signal: never() })), /model crashed/);
  } finally {
    await runtime.close();
    await server.close();
  }
});

test('after repeated failures the breaker opens and the fallback serves, flagged circuit_open', async () => {
  const server = await scriptedServer(() => ({ status: 500 }));
  const { runtime } = await startRuntime([
    openai('remote', 'embedder', { base_url: server.url, ...fast, retries: 0, breaker_failures: 2, breaker_half_open_ms: 60_000 }, { fallback: 'local' }),
    modelConfig({ name: 'local', role: 'embedder', backend: 'sim', options: { base_ms: 0, per_item_ms: 0, dimensions: 3 }, warmup: { batch_sizes: [] } }),
  ]);
  try {
    const events: FallbackEvent[] = [];
    for (let i = 0; i < 3; i++) await runtime.embedder('remote').embed([`x${i}`], { signal: never(), onFallback: (e) => events.push(e) });
    assert.deepEqual(events.map((e) => e.reason), ['error', 'error', 'circuit_open']);
    assert.equal(server.calls(), 2, 'the open circuit sends nothing');
  } finally {
    await runtime.close();
    await server.close();
  }
});

test('a 4xx is not retried and an unreachable server fails as upstream_failed', async () => {
  const server = await scriptedServer(() => ({ status: 400, json: { error: { message: 'bad model' } } }));
  const { runtime } = await startRuntime([
    openai('bad', 'embedder', { base_url: server.url, ...fast }),
    openai('gone', 'embedder', { base_url: 'http://127.0.0.1:9/v1', ...fast, retries: 1 }),
  ]);
  try {
    await assert.rejects(runtime.embedder('bad').embed(['x'], { signal: never() }), /answered 400/);
    assert.equal(server.calls(), 1);
    await assert.rejects(runtime.embedder('gone').embed(['x'], { signal: never() }), (err: { code?: string }) => err.code === 'upstream_failed');
  } finally {
    await runtime.close();
    await server.close();
  }
});
