import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MODELS } from '../../src/config/models.js';
import { modelConfig, sharedPath } from '../models/helpers.js';
import { metricValue, readSse, startTestServer, type TestServer } from '../support/server.js';

/**
 * The model-driven planner against a real model server: pronto serving the tiny llama through
 * its own OpenAI-compatible route, tool calls constrained by a grammar (the model writes nonsense,
 * but every call parses and fits its tool's schema), and a second pronto whose `plan` step calls
 * it through the openai backend, runs the tool the model chose and answers from what it found.
 */

const gguf = sharedPath('models/aidreams260K.gguf');

const SEARCH_TOOL = {
  type: 'function',
  function: {
    name: 'search_namespace',
    description: 'Search a namespace',
    parameters: { type: 'object', properties: { namespace: { type: 'string', enum: ['default'] }, query: { type: 'string', minLength: 1, maxLength: 40 } }, required: ['namespace', 'query'] },
  },
};

describe('the model-driven planner, with llama served by pronto', { skip: gguf ? false : 'needs ../shared/models/aidreams260K.gguf (absent)' }, () => {
  let upstream: TestServer;
  let server: TestServer;
  before(async () => {
    upstream = await startTestServer({
      models: [
        // The model was trained on 128 tokens; a longer window leaves room for the tools' prompt and a call.
        modelConfig({ name: 'tiny', role: 'generator', backend: 'llama', options: { model_path: gguf!, threads: 1, context_size: 512 }, warmup: { batch_sizes: [] } }),
        ...DEFAULT_MODELS,
      ],
      pipeline: { generator: 'extractive', fallback_generator: 'extractive' },
      sample_corpus: { enabled: false },
      observability: { log_level: 'warn' },
    });
    server = await startTestServer({
      models: [
        modelConfig({ name: 'planner', role: 'generator', backend: 'openai', options: { base_url: `${upstream.url}/v1`, model: 'tiny', timeout_ms: 60_000 } }),
        ...DEFAULT_MODELS,
      ],
      pipeline: { generator: 'extractive', fallback_generator: 'extractive' },
      flows: {
        agent: { budget_ms: 60_000, steps: [{ kind: 'plan', model: 'planner', tools: ['search_namespace'], max_calls: 1 }, { kind: 'generate' }] },
      },
      observability: { log_level: 'warn' },
    });
  });
  after(async () => {
    await server?.close();
    await upstream?.close();
  });

  test("pronto's OpenAI route returns grammar-valid tool_calls from llama (whole and streamed)", async () => {
    const messages = [{ role: 'user', content: 'Where do jobs run?' }];
    const res = await upstream.post('/v1/chat/completions', { model: 'tiny', messages, tools: [SEARCH_TOOL], tool_choice: 'required', max_tokens: 120 });
    assert.equal(res.status, 200, await res.clone().text());
    const body = await res.json();
    assert.equal(body.choices[0].finish_reason, 'tool_calls');
    assert.equal(body.choices[0].message.content, null);
    const [call] = body.choices[0].message.tool_calls;
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'search_namespace');
    const args = JSON.parse(call.function.arguments);
    assert.deepEqual(Object.keys(args).sort(), ['namespace', 'query']);
    assert.equal(args.namespace, 'default', 'the enum holds');
    assert.ok(args.query.length >= 1 && args.query.length <= 40, `query within its bounds: ${JSON.stringify(args.query)}`);

    const streamed = await upstream.post('/v1/chat/completions', { model: 'tiny', messages, tools: [SEARCH_TOOL], tool_choice: { type: 'function', function: { name: 'search_namespace' } }, max_tokens: 120, stream: true });
    const chunks: any[] = [];
    for await (const { data } of readSse(streamed)) if (data !== '[DONE]') chunks.push(data);
    const delta = chunks.find((c) => c.choices?.[0]?.delta?.tool_calls)!.choices[0].delta.tool_calls[0];
    assert.equal(delta.function.name, 'search_namespace');
    assert.equal(JSON.parse(delta.function.arguments).namespace, 'default');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
  });

  test('tools are refused for pronto-rag and for a generator that does not call tools', async () => {
    for (const model of ['pronto-rag', 'extractive']) {
      const res = await upstream.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], tools: [SEARCH_TOOL] });
      assert.equal(res.status, 400, model);
      const body = await res.json();
      assert.equal(body.error.code, 'unsupported_parameter');
      assert.equal(body.error.param ?? body.error.field, 'tools');
    }
  });

  test('a plan step calls a tool through the model server, the tool runs, its result is cited', async () => {
    const turnsBefore = await metricValue(upstream.url, 'pronto_model_calls_total', { model: 'tiny', outcome: 'ok' });
    const res = await server.post('/v1/chat', { text: 'What does status 429 mean?', flow: 'agent' });
    assert.equal(res.status, 200, await res.clone().text());
    const events: any[] = [];
    for await (const { event, data } of readSse(res)) events.push({ type: event, ...data });
    const call = events.find((e) => e.type === 'step' && e.kind === 'tool')!;
    assert.ok(call, JSON.stringify(events.filter((e) => e.type === 'step')));
    assert.equal(call.name, 'plan');
    assert.equal(call.tool, 'search_namespace');
    assert.equal(call.status, 'ok', JSON.stringify(call));
    assert.equal(call.arguments.namespace, 'default');
    assert.ok(call.ids.length > 0, 'the search found contexts');
    const plan = events.find((e) => e.type === 'step' && e.kind === 'plan')!;
    assert.equal(plan.status, 'ok');
    assert.equal(plan.calls, 1);
    assert.ok(plan.tokens > 0);
    const contexts = events.find((e) => e.type === 'contexts')!.contexts.map((c: { id: string }) => c.id);
    assert.deepEqual(contexts, call.ids, 'the answer is written from what the tool found');
    const done = events.find((e) => e.type === 'done')!;
    assert.ok(done.citations.length > 0 && done.citations.every((id: string) => call.ids.includes(id)), JSON.stringify(done.citations));
    assert.ok((await metricValue(upstream.url, 'pronto_model_calls_total', { model: 'tiny', outcome: 'ok' })) > turnsBefore, 'the llama server made the call');
    assert.ok((await metricValue(server.url, 'pronto_stage_duration_seconds_count', { flow: 'flow:agent', stage: 'step.plan.search_namespace', outcome: 'ok' })) >= 1);
  });
});
