import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureIngested } from '../../src/cli/eval-index.js';
import { ProntoError } from '../../src/core/errors.js';
import type { CallOptions } from '../../src/models/types.js';
import type { LanceVectorStore } from '../../src/retrieval/lance-store.js';
import type { DocumentInput } from '../../src/retrieval/types.js';
import { HashEmbedder, openRetrieval, type TestRetrieval } from './helpers.js';

/** The hash embedder, but its first `failing` calls overrun the model runtime's execution timeout (as under load). */
class TimingOutEmbedder extends HashEmbedder {
  attempts = 0;
  constructor(private failing: number) {
    super();
  }
  override async embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    if (this.attempts++ < this.failing) throw new ProntoError('upstream_failed', 'the model batch ran past its 30000 ms execution timeout');
    return super.embed(texts, options);
  }
}

const corpus: DocumentInput[] = Array.from({ length: 6 }, (_, i) => ({ id: `d${i}`, title: `doc ${i}`, text: `Document ${i} is about topic ${i}.` }));
const noPause = { attempts: 3, backoffMs: 0 };

let t: TestRetrieval;
let store: LanceVectorStore;
before(async () => {
  t = await openRetrieval();
  store = t.retrieval.store as LanceVectorStore;
});
after(() => t.cleanup());

async function indexedIds(namespace: string): Promise<string[]> {
  const ids = new Set<string>();
  for await (const chunks of store.scan(namespace)) for (const chunk of chunks) ids.add(chunk.docId);
  return [...ids].sort();
}

test('eval ingest takes again the documents whose model batch timed out, then caches the index', async () => {
  const embedder = new TimingOutEmbedder(2);
  const ingest = await ensureIngested(t.config, corpus, t.retrieval, store, embedder, 'eval/retry', noPause);
  assert.equal(ingest.cached, false);
  assert.ok((ingest.rounds as number) >= 2, `rounds: ${ingest.rounds}`);
  assert.deepEqual(await indexedIds('eval/retry'), corpus.map((d) => d.id).sort());
  assert.deepEqual(await ensureIngested(t.config, corpus, t.retrieval, store, embedder, 'eval/retry', noPause), { cached: true });
});

test('eval ingest gives up after its rounds when the model keeps timing out, and caches nothing', async () => {
  const embedder = new TimingOutEmbedder(Infinity);
  await assert.rejects(
    ensureIngested(t.config, corpus, t.retrieval, store, embedder, 'eval/down', noPause),
    /ingest failed for 6 documents: .*execution timeout/,
  );
  // Each round is one group of six small documents: one embedding call, or two in flight.
  assert.ok(embedder.attempts >= 3 && embedder.attempts <= 6, `embedder calls: ${embedder.attempts}`);
  const healthy = new TimingOutEmbedder(0);
  const ingest = await ensureIngested(t.config, corpus, t.retrieval, store, healthy, 'eval/down', noPause);
  assert.equal(ingest.rounds, 1);
});

test('a document refused for itself is not ingested again', async () => {
  const embedder = new TimingOutEmbedder(0);
  const withInvalid = [...corpus, { id: 'bad id with spaces', text: 'refused' }];
  await assert.rejects(ensureIngested(t.config, withInvalid, t.retrieval, store, embedder, 'eval/invalid', noPause), /ingest failed for 1 documents: .*invalid_input/);
  assert.equal(embedder.attempts, 1);
  assert.deepEqual(await indexedIds('eval/invalid'), corpus.map((d) => d.id).sort());
});
