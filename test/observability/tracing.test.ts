import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTestServer } from '../support/server.js';

test('a request continues the caller trace, with one child span per pipeline stage', async () => {
  const exporter = new InMemorySpanExporter();
  const server = await startTestServer({}, { spanExporter: exporter });
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
  } finally {
    await server.close();
  }
});
