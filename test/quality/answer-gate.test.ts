import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Fixed questions over the bundled sample corpus (ingested into the default namespace at start):
 * each answer must contain a phrase that answers it and cite the section it comes from. The
 * static embedder and the extractive generator keep it to seconds; a change to retrieval, fusion
 * or answer assembly that loses one of these fails CI.
 */
const QUESTIONS = [
  { text: 'Which status code means the server is overloaded?', phrase: '503', cites: '03-status-codes/1-which-status-means-what' },
  { text: 'How is BM25 fused with dense search?', phrase: 'hybrid of dense vector search and BM25', cites: '07-retrieval/0-retrieval' },
  { text: 'Where do jobs run?', phrase: 'Without Redis, jobs run in-process', cites: '09-jobs/2-where-jobs-run' },
  { text: 'Which file formats can be ingested?', phrase: 'JSON Lines', cites: '08-ingestion/1-formats' },
  { text: 'Which environment variables does pronto read?', phrase: 'PRONTO_DATA_DIR', cites: '04-config/1-environment-variables' },
  { text: 'How do I run pronto on Kubernetes?', phrase: 'readiness probes', cites: '11-deployment/2-on-kubernetes' },
  { text: 'What is micro-batching?', phrase: 'a batch runs when it is full or when its maximum wait passes', cites: '06-models/2-micro-batching' },
  { text: 'What does a client send to shorten the deadline?', phrase: 'shorten with a header', cites: '05-deadlines/0-deadlines-budgets-and-graceful-degradation' },
];

let server: TestServer;
before(async () => {
  server = await startTestServer({
    models: [
      // The distilled table is cached outside the run's data dir (keyed by use-lite's weights).
      { name: 'static', role: 'embedder', backend: 'static', options: { cache_dir: join(tmpdir(), 'pronto-static-table') } },
      { name: 'extractive', role: 'generator', backend: 'extractive' },
    ] as unknown as Config['models'],
    pipeline: { embedder: 'static' },
    observability: { log_level: 'warn' },
  });
});
after(() => server?.close());

for (const question of QUESTIONS) {
  test(`answer quality: "${question.text}" says "${question.phrase}" and cites ${question.cites}`, async () => {
    const response = await server.post('/v1/infer', { text: question.text });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { answer: string; citations: string[]; degraded: unknown[] };
    assert.deepEqual(body.degraded, []);
    assert.ok(body.answer.includes(question.phrase), `the answer does not say "${question.phrase}": ${body.answer}`);
    assert.ok(
      body.citations.some((chunk) => chunk.startsWith(`${question.cites}#`)),
      `the answer cites ${body.citations.join(', ')}, not ${question.cites}`,
    );
  });
}
