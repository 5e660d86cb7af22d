import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { isInstalled } from '../../src/models/optional-package.js';
import type { CallOptions, Embedder, InputKind } from '../../src/models/types.js';
import { metricValue, startTestServer } from '../support/server.js';
import { HashEmbedder, openRetrieval, signal } from '../retrieval/helpers.js';
import { modelConfig, never, sharedPath, startRuntime } from './helpers.js';

const glove = sharedPath('models/glove-sif-100d');
const skip = !glove
  ? 'needs ../shared/models/glove-sif-100d (absent)'
  : !(await isInstalled('@huggingface/transformers'))
    ? 'needs @huggingface/transformers (an optional dependency)'
    : false;

/** glove-sif-100d as a sentence-transformers directory whose config_sentence_transformers.json declares prompts (e5/bge style). */
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pronto-prompts-'));
  if (!glove) return;
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx']) symlinkSync(join(glove, file), join(dir, file));
  writeFileSync(
    join(dir, 'config_sentence_transformers.json'),
    JSON.stringify({ prompts: { query: 'search query: ', document: 'passage text: ' }, default_prompt_name: null }),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

const close = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-5);

test("the served onnx embedder prepends each call's prompt before batching: the directory's, or the config's", { skip }, async () => {
  const { runtime } = await startRuntime([
    // Calls within 50 ms share a batch: the three calls below go to the model together.
    modelConfig({ name: 'prompted', role: 'embedder', backend: 'onnx', options: { model: dir }, batching: { max_wait_ms: 50 } as never, warmup: { batch_sizes: [] } }),
    modelConfig({ name: 'overridden', role: 'embedder', backend: 'onnx', options: { model: dir, prompts: { query: 'question: ', passage: '' } }, warmup: { batch_sizes: [] } }),
    modelConfig({ name: 'plain', role: 'embedder', backend: 'onnx', options: { model: glove! }, warmup: { batch_sizes: [] } }),
  ]);
  try {
    const text = 'otters swim in rivers';
    const embed = (name: string, input?: InputKind) => runtime.embedder(name).embed([text], { signal: never(), input }).then((v) => v[0]);
    const as = (prefixed: string) => runtime.embedder('plain').embed([prefixed], { signal: never() }).then((v) => v[0]);
    const [query, passage, raw] = await Promise.all([embed('prompted', 'query'), embed('prompted', 'passage'), embed('prompted')]);
    assert.ok(close(query, await as('search query: ' + text)), 'the query prompt from config_sentence_transformers.json');
    assert.ok(close(passage, await as('passage text: ' + text)), 'its "document" prompt is the passage prompt');
    assert.ok(close(raw, await as(text)), 'no kind: the text as it is');
    assert.ok(!close(query, raw));
    assert.ok(close(await embed('overridden', 'query'), await as('question: ' + text)), 'the config prompt wins');
    assert.ok(close(await embed('overridden', 'passage'), await as(text)), 'an empty config prompt turns one off');
  } finally {
    await runtime.close();
  }
});

/** Records the kind of input each call said it embeds. */
class KindRecordingEmbedder extends HashEmbedder {
  readonly kinds: Array<InputKind | undefined> = [];
  override embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    this.kinds.push(options.input);
    return super.embed(texts, options);
  }
}

test('ingest embeds passages and search embeds queries', async () => {
  const t = await openRetrieval();
  try {
    const embedder: Embedder & { kinds: Array<InputKind | undefined> } = new KindRecordingEmbedder();
    await t.retrieval.ingest('public/kinds', [{ id: 'a', title: 'Otters', text: 'Otters swim. They hold hands.' }], { embedder, signal });
    assert.deepEqual(new Set(embedder.kinds), new Set(['passage']));
    embedder.kinds.length = 0;
    await t.retrieval.search({ query: 'otters', namespace: 'public/kinds', topK: 1, mode: 'hybrid', embedder, signal });
    assert.deepEqual(embedder.kinds, ['query']);
  } finally {
    await t.cleanup();
  }
});

test('the embedding cache keeps a text embedded as a query apart from the same text embedded as it is', { skip }, async () => {
  const models = [
    { name: 'prompted', role: 'embedder', backend: 'onnx', options: { model: dir }, warmup: { batch_sizes: [1] } },
    { name: 'extractive', role: 'generator', backend: 'extractive' },
  ] as unknown as Config['models'];
  const server = await startTestServer({ models, pipeline: { embedder: 'prompted' }, sample_corpus: { enabled: false }, cache: { results: { enabled: false } } });
  try {
    const text = 'otters swim in rivers';
    const misses = () => metricValue(server.url, 'pronto_cache_requests_total', { cache: 'embedding', result: 'miss' });
    assert.equal((await server.post('/v1/embeddings', { input: text, model: 'prompted' })).status, 200);
    const before = await misses();
    assert.equal((await server.post('/v1/search', { query: text, mode: 'dense' })).status, 200);
    assert.equal(await misses(), before + 1, 'the query was not served the unprompted vector');
    assert.equal((await server.post('/v1/search', { query: text, mode: 'dense' })).status, 200);
    assert.equal(await misses(), before + 1, 'the query vector itself is cached');
  } finally {
    await server.close();
  }
});
