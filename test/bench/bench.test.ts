import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { chatLoop } from '../../src/cli/bench/chat.js';
import { closedLoop } from '../../src/cli/bench/closed-loop.js';
import { grpcClosedLoop } from '../../src/cli/bench/grpc-loop.js';
import { healthzUnderLoad, heavyDocument } from '../../src/cli/bench/healthz.js';
import { ingestBench } from '../../src/cli/bench/ingest.js';
import { offline } from '../../src/cli/bench/offline.js';
import { openLoop } from '../../src/cli/bench/open-loop.js';
import { httpScenario } from '../../src/cli/bench/scenarios.js';
import { metricValue, startTestServer, type TestServer } from '../support/server.js';
import { modelConfig } from '../models/helpers.js';

const models = [
  modelConfig({ name: 'sim', role: 'embedder', backend: 'sim', options: { base_ms: 1, per_item_ms: 0.1 } }),
  modelConfig({ name: 'extractive', role: 'generator', backend: 'extractive' }),
];

/**
 * Runs a timed loop for 1 s, then 2, 4, 8 and 16 s until it counted enough: on a loaded machine one
 * second held no request at all (a closed loop counted 0, a healthz probe took 990 ms).
 */
async function longEnough<R>(run: (durationS: number) => Promise<R>, enough: (result: R) => boolean): Promise<R> {
  let result = await run(1);
  for (const durationS of [2, 4, 8, 16]) {
    if (enough(result)) break;
    result = await run(durationS);
  }
  return result;
}

describe('pronto bench against a real server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      models,
      pipeline: { embedder: 'sim' },
      sample_corpus: { enabled: false },
      observability: { log_level: 'warn' },
      server: { grpc_port: 0 },
    });
  });
  after(() => server?.close());

  test('closed loop (autocannon) reports rps and latency percentiles; every body is different', async () => {
    const result = await longEnough(
      (durationS) => closedLoop(server.url, httpScenario('embed')!, { connections: 4, durationS }),
      (r) => r.requests > 10,
    );
    assert.ok(result.requests > 10 && result.rps > 0, JSON.stringify(result));
    assert.equal(result.errors, result.status['503'] ?? 0, 'errors are only load shedding on a busy machine');
    assert.ok(result.p50 > 0 && result.p50 <= result.p95 && result.p95 <= result.p99);
    const misses = await fetch(`${server.url}/metrics`).then((r) => r.text());
    assert.match(misses, /pronto_model_batch_size_count\{model="sim"\} [1-9]/);
  });

  test('closed loop with a request count sends exactly that many, each query of the list once', async () => {
    const queries = ['alpha one', 'beta two', 'gamma three', 'delta four', 'epsilon five'];
    const scenario = httpScenario('search', { queries })!;
    const sent: string[] = [];
    const counted = {
      ...scenario,
      body: (n: number) => {
        const body = scenario.body(n) as { query: string };
        sent.push(body.query);
        return body;
      },
    };
    const result = await closedLoop(server.url, counted, { connections: 1, durationS: 60, requests: queries.length });
    assert.equal(result.requests, queries.length, JSON.stringify(result));
    assert.ok(result.duration_s < 60, 'the count, not the duration, ended the run');
    // autocannon may build one request ahead that it never sends; the ones sent are the list, once each.
    assert.deepEqual(sent.slice(0, queries.length), queries);
  });

  test('open loop offers the rate and separates rejections', async () => {
    const result = await openLoop(server.url, httpScenario('embed')!, { rate: 50, durationS: 1, connections: 8 });
    assert.equal(result.requests, 50);
    // A loaded machine may shed a few (503); every one is counted as rejected, apart from the rest.
    const shed = (result.status['503'] ?? 0) + (result.status['429'] ?? 0);
    assert.equal((result.status['200'] ?? 0) + shed, 50, JSON.stringify(result.status));
    assert.equal(result.rejected.count, shed);
    assert.equal(result.count, 50 - shed);
    assert.equal(result.client_send_lag.count, 50, 'every send is timed against its schedule');
    assert.equal(result.from_send.count, result.count);
    assert.ok(result.from_send.p50 <= result.p50, 'from the send is never longer than from the schedule');
  });

  test('grpc: a closed loop of Embed calls, one channel per connection, counted like HTTP', async () => {
    const servedCount = () =>
      metricValue(server.url, 'pronto_http_requests_total', { method: 'GRPC', route: '/pronto.v1.Pronto/Embed', status: '200' });
    // The server's count is compared with the run that is kept, so each run takes its own.
    const { result, served } = await longEnough(
      async (durationS) => {
        const before = await servedCount();
        const result = await grpcClosedLoop(`127.0.0.1:${server.grpc!.port}`, httpScenario('embed')!, { connections: 4, durationS });
        return { result, served: (await servedCount()) - before };
      },
      (r) => r.result.requests > 10,
    );
    assert.ok(result.requests > 10 && result.rps > 0, JSON.stringify(result));
    assert.equal(result.errors, result.status.UNAVAILABLE ?? 0, 'errors are only load shedding on a busy machine');
    assert.ok(result.p50 > 0 && result.p50 <= result.p95 && result.p95 <= result.p99);
    assert.equal(served, result.status.OK, 'every OK the loop counted is a call the server served');
  });

  test('healthz probes /healthz while one heavy document request after another runs', async () => {
    const result = await longEnough(
      (durationS) => healthzUnderLoad(server.url, { durationS, documentChars: 20_000, namespace: 'bench-healthz' }),
      (r) => r.healthz.requests > 5 && r.heavy.requests >= 1,
    );
    assert.ok(result.healthz.requests > 5, JSON.stringify(result));
    assert.deepEqual(Object.keys(result.healthz.status), ['200']);
    assert.ok(result.heavy.requests >= 1 && result.heavy.status['200'] === result.heavy.requests, JSON.stringify(result.heavy));
    assert.equal(heavyDocument(20_000).length, 20_000);
  });

  test('chat measures time to first token and tokens per second over SSE', async () => {
    const result = await longEnough(
      (durationS) => chatLoop(server.url, httpScenario('chat')!, { connections: 2, durationS }),
      (r) => r.requests > 0,
    );
    assert.ok(result.requests > 0 && result.errors === (result.status['503'] ?? 0), JSON.stringify(result));
    assert.ok(result.ttft_ms.count > 0 && result.ttft_ms.p50 > 0);
  });
});

describe('pronto bench ingest against a real server', () => {
  const documents = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: `doc-${i}`, text: `Benchmark document ${i} about deadlines and batching.` }));
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      models,
      pipeline: { embedder: 'sim' },
      sample_corpus: { enabled: false },
      retrieval: { max_documents_per_request: 20 },
      observability: { log_level: 'warn' },
    });
  });
  after(() => server?.close());

  test('one client sends every batch in turn; searches and freshness probes run alongside once the namespace exists', async () => {
    const result = await ingestBench(server.url, documents(40), {
      namespace: 'bench-a',
      batchSize: 16,
      searchRate: 20,
      freshnessEveryS: 0.2,
    });
    assert.deepEqual(
      [result.ingest.ingested, result.ingest.failed_documents, result.ingest.requests],
      [40, 0, 3],
      JSON.stringify(result.ingest),
    );
    assert.deepEqual(result.ingest.status, { 200: 3 });
    // The second client starts after the first batch is in: no search meets a missing namespace.
    assert.ok(result.search && result.search.requests > 0 && result.search.status['404'] === undefined, JSON.stringify(result.search));
    assert.ok(result.freshness && result.freshness.probes >= 1, JSON.stringify(result.freshness));
    assert.equal(result.freshness.missed, 0);
    assert.equal(result.freshness.visible_after_ms.count, result.freshness.status['200']);
    const found = await server
      .post('/v1/search', { query: 'Benchmark document 39', namespace: 'bench-a', mode: 'sparse' })
      .then((r) => r.json());
    assert.ok(found.hits.some((hit: { doc_id: string }) => hit.doc_id === 'doc-39'));
  });

  test('a batch refused for itself (4xx other than 429: here too many documents) is counted by status and not sent again', async () => {
    const result = await ingestBench(server.url, documents(48), { namespace: 'bench-b', batchSize: 24, searchRate: 0, freshnessEveryS: 0 });
    assert.deepEqual(result.ingest.status, { 413: 2 });
    assert.deepEqual([result.ingest.ingested, result.ingest.failed_documents, result.ingest.errors], [0, 48, 2]);
    assert.equal(result.search, undefined);
  });
});

test('offline runs the model in-process at each batch size', async () => {
  const config = loadConfig({ env: {}, overrides: { models, pipeline: { embedder: 'sim' } } });
  const result = await offline(config, 'sim', { batchSizes: [1, 4], durationS: 0.2 });
  assert.deepEqual(
    result.results.map((r) => r.batch_size),
    [1, 4],
  );
  assert.ok(result.results.every((r) => r.items_per_s > 0 && r.batches >= 3));
  assert.deepEqual([result.pooled, result.threads], [false, 1]);
});

test('offline runs a pooled model through its worker pool, one batch per thread at once', async () => {
  const pooled = [{ ...models[0], worker: true, worker_threads: 2 }, models[1]];
  const config = loadConfig({ env: {}, overrides: { models: pooled, pipeline: { embedder: 'sim' } } });
  const result = await offline(config, 'sim', { batchSizes: [4], durationS: 0.2 });
  assert.deepEqual([result.pooled, result.threads], [true, 2]);
  assert.ok(result.results[0].items_per_s > 0 && result.results[0].batches >= 3);
});
