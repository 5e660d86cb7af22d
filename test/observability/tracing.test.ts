import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { readSse, startTestServer } from '../support/server.js';

test('a request continues the caller trace, with one child span per pipeline stage; a degraded stage says what served', async () => {
  const exporter = new InMemorySpanExporter();
  // The features stage runs only for requests that name a user: the first request is unaffected.
  const server = await startTestServer({ faults: { features: { mode: 'throw' } } }, { spanExporter: exporter });
  try {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await server.post('/v1/infer', { text: 'What is pronto?' }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    assert.equal(res.status, 200);
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const root = spans.find((s) => s.name === 'POST /v1/infer');
    assert.ok(root, 'the server span joined the caller trace');
    assert.equal(root.parentSpanContext?.spanId, '00f067aa0ba902b7');
    const stages = spans.filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId).map((s) => s.name);
    for (const stage of ['sanitize', 'embed', 'retrieve', 'generate', 'postprocess']) assert.ok(stages.includes(stage), `${stage} span in ${stages}`);
    assert.ok(spans.every((s) => s.attributes['pronto.degraded'] === undefined || s === root), 'nothing degraded');

    const degradedTrace = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    // Another question: the first one's answer is cached now, and a hit runs no stage.
    const degraded = await server.post('/v1/infer', { text: 'What does pronto do?', user_id: 'u1' }, { traceparent: `00-${degradedTrace}-00f067aa0ba902b7-01` });
    assert.equal(degraded.status, 200);
    const later = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === degradedTrace);
    const features = later.find((s) => s.name === 'features');
    assert.equal(features?.attributes['pronto.degraded'], 'error->default_features');
    assert.equal(features?.attributes['pronto.outcome'], 'error');
    assert.equal(later.find((s) => s.name === 'POST /v1/infer')?.attributes['pronto.degraded'], 'features:default_features');
  } finally {
    await server.close();
  }
});

test('with no tracing SDK, a request is traced only when its caller sent a sampled traceparent', async () => {
  const server = await startTestServer();
  try {
    const doneOf = async (headers: Record<string, string>) => {
      for await (const event of readSse(await server.post('/v1/chat', { text: 'How are deadlines kept?' }, headers))) {
        if (event.event === 'done') return event.data as { trace_id?: string };
      }
      assert.fail('no done event');
    };
    assert.equal((await doneOf({})).trace_id, undefined, 'no traceparent: no trace id');
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    assert.equal((await doneOf({ traceparent: `00-${traceId}-b7ad6b7169203331-01` })).trace_id, traceId, "a sampled traceparent: the caller's trace");
    assert.equal((await doneOf({ traceparent: `00-${traceId}-b7ad6b7169203331-00` })).trace_id, undefined, 'an unsampled one: none');
  } finally {
    await server.close();
  }
});
