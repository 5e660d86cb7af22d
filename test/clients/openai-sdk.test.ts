import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { after, before, describe, test } from 'node:test';
import { startClientTestServer } from './server.js';
import type { TestServer } from '../support/server.js';

/** The official `openai` SDK, used as its users do, against the real server on loopback. */
describe('the openai SDK against pronto', () => {
  let server: TestServer;
  let client: OpenAI;
  before(async () => {
    server = await startClientTestServer();
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => server?.close());

  /** The SDK raises `kind` for the request, with pronto's code and OpenAI's type and param. */
  async function rejects(
    call: Promise<unknown>,
    kind: typeof OpenAI.NotFoundError | typeof OpenAI.BadRequestError,
    expected: { code: string; type: string; param: string | null },
  ) {
    await assert.rejects(call, (err: unknown) => {
      assert.ok(err instanceof kind, String(err));
      const apiError = err as InstanceType<typeof OpenAI.BadRequestError>;
      assert.deepEqual({ code: apiError.code, type: apiError.type, param: apiError.param }, expected);
      return true;
    });
  }

  test('models.list and models.retrieve; an unknown model is a NotFoundError', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    assert.deepEqual(ids.sort(), ['extractive', 'pronto-flow:decompose', 'pronto-rag', 'sim']);
    const model = await client.models.retrieve('pronto-rag');
    assert.equal(model.id, 'pronto-rag');
    assert.equal(model.object, 'model');
    await rejects(client.models.retrieve('gpt-9'), OpenAI.NotFoundError, {
      code: 'unknown_model',
      type: 'not_found_error',
      param: 'model',
    });
  });

  test('content parts, the developer role and name are accepted; the reply names the model asked for', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'developer', content: 'Answer briefly.' },
      {
        role: 'user',
        name: 'ada',
        content: [
          { type: 'text', text: 'What do glaciers' },
          { type: 'text', text: 'carve?' },
        ],
      },
    ];
    const completion = await client.chat.completions.create({ model: 'pronto-rag', messages });
    assert.equal(completion.model, 'pronto-rag');
    assert.match(completion.choices[0].message.content ?? '', /valleys/);
    assert.equal(completion.choices[0].finish_reason, 'stop');

    const stream = await client.chat.completions.create({
      model: 'pronto-rag',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      assert.equal(chunk.model, 'pronto-rag');
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, completion.choices[0].message.content);
    assert.ok(usage && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens);
  });

  test('a flow by its model alias: steps ride in empty-delta chunks the SDK passes over', async () => {
    const messages = [{ role: 'user' as const, content: 'What do glaciers carve and what raises ocean tides?' }];
    const model = 'pronto-flow:decompose';
    const completion = await client.chat.completions.create({ model, messages });
    const answer = completion.choices[0].message.content ?? '';
    assert.match(answer, /valleys/);
    assert.match(answer, /moon/);
    const report = (completion as unknown as { pronto: { steps: Array<{ name: string }> } }).pronto;
    const order = ['rewrite', 'retrieve', 'retrieve', 'rerank', 'rerank', 'generate'];
    assert.deepEqual(report.steps.map((step) => step.name), order);

    // Streamed as users read it: content from each chunk's first choice, steps ignored.
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    let text = '';
    const steps: Array<{ name: string; status: string }> = [];
    const kinds: string[] = [];
    for await (const chunk of stream) {
      assert.equal(chunk.model, model);
      text += chunk.choices[0].delta.content ?? '';
      const step = (chunk as unknown as { pronto?: { step?: { name: string; status: string } } }).pronto?.step;
      if (step) {
        assert.deepEqual(chunk.choices[0].delta, {}, 'a step chunk carries no content');
        steps.push(step);
      }
      kinds.push(step ? 'step' : chunk.choices[0].delta.content ? 'content' : 'other');
    }
    assert.equal(text, answer);
    assert.deepEqual(steps.map((step) => step.name), order);
    assert.ok(kinds.lastIndexOf('step') < kinds.indexOf('content'), `the steps come before the answer: ${kinds.join(',')}`);

    // The SDK's accumulating helper builds the same message.
    const final = await client.chat.completions.stream({ model, messages }).finalChatCompletion();
    assert.equal(final.choices[0].message.content, answer);

    await rejects(client.chat.completions.create({ model: 'pronto-flow:nope', messages }), OpenAI.NotFoundError, {
      code: 'unknown_model',
      type: 'not_found_error',
      param: 'model',
    });
  });

  test('what pronto cannot honour is a BadRequestError naming the parameter', async () => {
    const messages = [{ role: 'user' as const, content: 'What do glaciers carve?' }];
    const unsupported = (param: string) => ({ code: 'unsupported_parameter', type: 'invalid_request_error', param });
    await rejects(client.chat.completions.create({ model: 'pronto-rag', messages, n: 2 }), OpenAI.BadRequestError, unsupported('n'));
    await rejects(
      client.chat.completions.create({
        model: 'pronto-rag',
        messages,
        tools: [{ type: 'function', function: { name: 'lookup', parameters: {} } }],
      }),
      OpenAI.BadRequestError,
      unsupported('tools'),
    );
    await rejects(
      client.chat.completions.create({ model: 'pronto-rag', messages, response_format: { type: 'json_object' } }),
      OpenAI.BadRequestError,
      unsupported('response_format'),
    );
    await rejects(
      client.chat.completions.create({
        model: 'pronto-rag',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
            ],
          },
        ],
      }),
      OpenAI.BadRequestError,
      unsupported('messages[0].content[1].type'),
    );
    // The plain-text values of those parameters pass.
    const plain = await client.chat.completions.create({
      model: 'pronto-rag',
      messages,
      n: 1,
      response_format: { type: 'text' },
      tool_choice: 'none',
    });
    assert.equal(plain.choices.length, 1);
  });

  test('embeddings: strings (base64 by default, decoded by the SDK); token ids are refused with the way out', async () => {
    const result = await client.embeddings.create({ model: 'sim', input: ['first text', 'second text'] });
    assert.deepEqual(
      result.data.map((d) => [d.index, d.embedding.length]),
      [
        [0, 16],
        [1, 16],
      ],
    );
    await assert.rejects(client.embeddings.create({ model: 'sim', input: [[101, 2023, 102]] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.param, 'input');
      assert.match(err.message, /checkEmbeddingCtxLength: false.*check_embedding_ctx_length=False/);
      return true;
    });
  });

  test('validation errors carry OpenAI type and param too', async () => {
    await rejects(
      client.chat.completions.create({ model: 'pronto-rag', messages: [{ role: 'user', content: 'hi' }], max_tokens: 0 }),
      OpenAI.BadRequestError,
      { code: 'invalid_input', type: 'invalid_request_error', param: 'max_tokens' },
    );
  });
});
