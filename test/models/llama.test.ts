import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ANSWER } from '../../src/config/answer.js';
import { fitPrompt } from '../../src/models/backends/llama.js';
import type { GenerateRequest } from '../../src/models/types.js';
import { dot } from '../../src/core/vectors.js';
import { collect, modelConfig, never, sharedPath, startRuntime } from './helpers.js';
import { isInstalled, OPTIONAL_PACKAGES } from '../../src/models/optional-package.js';

const gguf = sharedPath('models/aidreams260K.gguf');
const skip = !gguf
  ? 'needs ../shared/models/aidreams260K.gguf (absent)'
  : !(await isInstalled('node-llama-cpp'))
    ? `needs node-llama-cpp (an optional dependency): ${OPTIONAL_PACKAGES['node-llama-cpp'].install}`
    : false;

const ask = (content: string, maxTokens = 24): GenerateRequest => ({ messages: [{ role: 'user', content }], contexts: [], maxTokens });

test('llama: streams a completion, several at once from the sequence pool, deterministic at temperature 0', { skip }, async () => {
  const { runtime } = await startRuntime([
    modelConfig({
      name: 'tiny',
      role: 'generator',
      backend: 'llama',
      options: { model_path: gguf!, threads: 1 },
      batching: { max_concurrent_batches: 2 } as never,
      warmup: { batch_sizes: [1] },
    }),
    modelConfig({ name: 'tiny-embed', role: 'embedder', backend: 'llama', options: { model_path: gguf! }, warmup: { batch_sizes: [1] } }),
  ]);
  try {
    const generator = runtime.generator('tiny');
    const streams = [generator.generate(ask('Once upon a time'), { signal: never() }), generator.generate(ask('Once upon a time'), { signal: never() })];
    const [a, b] = await Promise.all(streams.map(collect));
    assert.ok(a.length > 3, `several chunks streamed (got ${a.length})`);
    assert.equal(a.join(''), b.join(''));
    assert.ok(streams[0].usage().completion_tokens > 0 && streams[0].usage().completion_tokens <= 24);
    assert.ok(streams[0].usage().prompt_tokens > 0);

    const controller = new AbortController();
    const pieces: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const piece of generator.generate(ask('The little dog', 100), { signal: controller.signal })) {
          pieces.push(piece);
          if (pieces.length === 2) controller.abort(new Error('stop now'));
        }
      })(),
      /stop now/,
    );
    assert.equal(pieces.length, 2);

    const embedder = runtime.embedder('tiny-embed');
    const [v, w] = await embedder.embed(['a happy cat', 'a happy cat'], { signal: never() });
    assert.equal(v.length, embedder.dimensions);
    assert.ok(Math.abs(dot(v, w) - 1) < 1e-4);
  } finally {
    await runtime.close();
  }
});

test('fitPrompt keeps the question and drops passages that do not fit the window', () => {
  const words = (text: string) => text.split(/\s+/).map((_, i) => i);
  const request: GenerateRequest = {
    messages: [{ role: 'user', content: 'why is the sky blue' }],
    contexts: [{ id: 'a', text: 'short passage' }, { id: 'b', text: 'a much longer passage '.repeat(20) }],
    maxTokens: 8,
    answer: { ...DEFAULT_ANSWER, prompt: '{passages}\n\nQuestion: {question}\nAnswer:' },
  };
  assert.equal(fitPrompt(request, words, 30, 8).length, words('[1] short passage\n\nQuestion: why is the sky blue\nAnswer:').length);
  assert.deepEqual(fitPrompt({ ...request, contexts: [] }, words, 8, 4), [1, 2, 3, 4], 'a long question keeps its last tokens');
});
