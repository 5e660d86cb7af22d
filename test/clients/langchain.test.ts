import assert from 'node:assert/strict';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { after, before, describe, test } from 'node:test';
import { startClientTestServer } from './server.js';
import type { TestServer } from '../support/server.js';

/** LangChain.js's OpenAI integration, configured as its users would for a compatible server. */
describe('@langchain/openai against pronto', () => {
  let server: TestServer;
  let chat: ChatOpenAI;
  before(async () => {
    server = await startClientTestServer();
    chat = new ChatOpenAI({ model: 'pronto-rag', apiKey: 'unused', maxRetries: 0, configuration: { baseURL: `${server.url}/v1` } });
  });
  after(() => server?.close());

  test('invoke, with a system message and content parts', async () => {
    const reply = await chat.invoke([
      new SystemMessage('Answer from the documents.'),
      new HumanMessage({ content: [{ type: 'text', text: 'What do glaciers carve?' }] }),
    ]);
    assert.match(String(reply.content), /valleys/);
    assert.equal(reply.response_metadata.model_name, 'pronto-rag');
    assert.ok(reply.usage_metadata && reply.usage_metadata.output_tokens > 0);
  });

  test('stream gives the same answer as invoke, in pieces', async () => {
    const question = 'What raises ocean tides?';
    const whole = String((await chat.invoke(question)).content);
    const pieces: string[] = [];
    for await (const chunk of await chat.stream(question)) pieces.push(String(chunk.content));
    assert.ok(pieces.filter(Boolean).length > 1, `pieces: ${JSON.stringify(pieces)}`);
    assert.equal(pieces.join(''), whole);
    assert.match(whole, /moon/);
  });

  test('a flow by its model alias streams the same answer as invoke (its step chunks carry no content)', async () => {
    const flow = new ChatOpenAI({ model: 'pronto-flow:decompose', apiKey: 'unused', maxRetries: 0, configuration: { baseURL: `${server.url}/v1` } });
    const question = 'What do glaciers carve and what raises ocean tides?';
    const whole = String((await flow.invoke(question)).content);
    const pieces: string[] = [];
    for await (const chunk of await flow.stream(question)) pieces.push(String(chunk.content));
    assert.equal(pieces.join(''), whole);
    assert.match(whole, /valleys/);
    assert.match(whole, /moon/);
  });

  test('batch answers each input', async () => {
    const replies = await chat.batch(['What do glaciers carve?', 'What erupts from volcanoes?']);
    assert.equal(replies.length, 2);
    assert.match(String(replies[0].content), /valleys/);
    assert.match(String(replies[1].content), /lava/);
  });

  test('structured output is refused clearly (pronto answers in plain text)', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], title: 'Answer' };
    for (const method of ['functionCalling', 'jsonSchema', 'jsonMode'] as const) {
      await assert.rejects(
        chat.withStructuredOutput(schema, { method }).invoke('What do glaciers carve?'),
        (err: Error & { status?: number; code?: string }) => {
          assert.equal(err.status, 400, `${method}: ${err.message}`);
          assert.match(err.message, /(tools are|response_format is) not supported/, method);
          return true;
        },
      );
    }
  });

  test('OpenAIEmbeddings embeds queries and documents', async () => {
    const embeddings = new OpenAIEmbeddings({
      model: 'sim',
      apiKey: 'unused',
      maxRetries: 0,
      configuration: { baseURL: `${server.url}/v1` },
    });
    const query = await embeddings.embedQuery('What do glaciers carve?');
    assert.equal(query.length, 16);
    const documents = await embeddings.embedDocuments(['first text', 'second text', 'third text']);
    assert.deepEqual(
      documents.map((v) => v.length),
      [16, 16, 16],
    );
    assert.deepEqual(await embeddings.embedQuery('What do glaciers carve?'), query, 'deterministic');
  });
});
