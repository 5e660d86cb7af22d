import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { ProntoError } from '../../src/core/errors.js';
import { createJobHandlers } from '../../src/jobs/handlers.js';
import { createRequestContext } from '../../src/pipeline/context.js';
import type { AnswerInput, Pipeline } from '../../src/pipeline/types.js';

/** A pipeline that records what it was asked and answers fixed values. */
function fakePipeline() {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const pipeline = {
    answer(input: AnswerInput) {
      calls.push({ method: 'answer', args: [input] });
      return {
        contexts: Promise.resolve([{ id: 'd#0', docId: 'd', score: 1, text: 'ctx', metadata: {} }]),
        tokens: (async function* () {
          yield 'Hello';
          yield ' world';
        })(),
        done: Promise.resolve({ usage: { prompt_tokens: 3, completion_tokens: 2 }, model: 'extractive', citations: ['d'] }),
      };
    },
    async embed(input: { texts: string[] }) {
      calls.push({ method: 'embed', args: [input] });
      return { vectors: input.texts.map((_, i) => new Float32Array([i, 0.5])), model: 'use-lite', tokens: 7 };
    },
    async ingest(namespace: string, documents: unknown[]) {
      calls.push({ method: 'ingest', args: [namespace, documents] });
      return { accepted: [{ id: 'a', chunks: 1 }], failed: [] };
    },
  } as unknown as Pipeline;
  return { pipeline, calls };
}

const config = loadConfig({ env: {} });
const ctx = () => createRequestContext({ logger: pino({ level: 'silent' }), tenant: 't', deadlineMs: 5000 });
const run = { jobId: 'j', reportProgress: () => undefined };

test('infer and chat collect the whole answer; text becomes a one-turn conversation', async () => {
  const { pipeline, calls } = fakePipeline();
  const handlers = createJobHandlers(pipeline, config);
  const result = (await handlers.infer({ text: 'hi', top_k: 3 }, ctx(), run)) as Record<string, unknown>;
  assert.equal(result.answer, 'Hello world');
  assert.deepEqual(result.contexts, [{ id: 'd#0', doc_id: 'd', score: 1, text: 'ctx', title: undefined, metadata: {} }]);
  assert.deepEqual(result.usage, { prompt_tokens: 3, completion_tokens: 2 });
  const input = calls[0].args[0] as AnswerInput;
  assert.deepEqual(input.messages, [{ role: 'user', content: 'hi' }]);
  assert.equal(input.topK, 3);
  assert.equal(input.namespace, config.sample_corpus.namespace);
  const messages = [{ role: 'user' as const, content: 'a' }];
  await handlers.chat({ messages, namespace: 'docs' }, ctx(), run);
  assert.deepEqual((calls[1].args[0] as AnswerInput).messages, messages);
  assert.equal((calls[1].args[0] as AnswerInput).namespace, 'docs');
});

test('embed answers JSON vectors in the OpenAI shape; ingest reports per document', async () => {
  const { pipeline } = fakePipeline();
  const handlers = createJobHandlers(pipeline, config);
  const embedded = await handlers.embed({ texts: ['a', 'b'] }, ctx(), run);
  assert.deepEqual(JSON.parse(JSON.stringify(embedded)), {
    object: 'list',
    model: 'use-lite',
    data: [
      { object: 'embedding', index: 0, embedding: [0, 0.5] },
      { object: 'embedding', index: 1, embedding: [1, 0.5] },
    ],
    usage: { prompt_tokens: 7, total_tokens: 7 },
  });
  const ingested = await handlers.ingest({ documents: [{ id: 'a', text: 'x' }] }, ctx(), run);
  assert.deepEqual(ingested, { namespace: config.sample_corpus.namespace, accepted: [{ id: 'a', chunks: 1 }], failed: [] });
});

test('a big embed job goes to the model in pieces and waits out the pieces it sheds', async () => {
  const { pipeline, calls } = fakePipeline();
  const embed = pipeline.embed.bind(pipeline);
  let shed = 0;
  pipeline.embed = async (input, c) => {
    // The model queue sheds the second piece once, as it does on a queue timeout.
    if (calls.length === 1 && shed++ === 0) throw new ProntoError('overloaded', 'Waited 5000 ms for a free use-lite slot');
    return embed(input, c);
  };
  const progress: number[] = [];
  const texts = Array.from({ length: 150 }, (_, i) => `text ${i}`);
  const chunked = loadConfig({ env: {}, overrides: { jobs: { embed_chunk_texts: 64 } } });
  const result = (await createJobHandlers(pipeline, chunked).embed({ texts }, ctx(), {
    jobId: 'j',
    reportProgress: (f) => progress.push(f),
  })) as { data: Array<{ index: number }> };
  assert.deepEqual(
    calls.map((c) => (c.args[0] as { texts: string[] }).texts.length),
    [64, 64, 22],
  );
  assert.equal(shed, 2, 'the shed piece was tried again');
  assert.deepEqual(
    result.data.map((d) => d.index),
    texts.map((_, i) => i),
  );
  assert.deepEqual(progress, [64 / 150, 128 / 150, 1]);
});
