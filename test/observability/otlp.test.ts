import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSse } from '../support/server.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  links?: Array<{ traceId: string; spanId: string }>;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}
interface Received {
  resource: Record<string, unknown>;
  spans: OtlpSpan[];
}

/** An OTLP/HTTP (JSON) trace receiver on loopback, keeping every export it is sent. */
async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      assert.equal(req.url, '/v1/traces');
      const payload = JSON.parse(body) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: Record<string, unknown> }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
      for (const rs of payload.resourceSpans) {
        received.push({
          resource: Object.fromEntries(rs.resource.attributes.map((a) => [a.key, Object.values(a.value)[0]])),
          spans: rs.scopeSpans.flatMap((s) => s.spans),
        });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

test('pronto serve exports spans over OTLP/HTTP as the OTEL_* variables say', async () => {
  const receiver = await startReceiver();
  const dataDir = mkdtempSync(join(tmpdir(), 'pronto-otlp-'));
  const configFile = join(dataDir, 'pronto.yaml');
  writeFileSync(configFile, 'server:\n  host: 127.0.0.1\n  max_event_loop_delay_ms: 0\n');
  const child = spawn(process.execPath, ['bin/pronto.js', 'serve', '--port', '0'], {
    env: {
      ...process.env,
      PRONTO_CONFIG: configFile,
      PRONTO_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'pronto-under-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=ci,team=search',
      // Keep only what the caller sampled: requests without a sampled traceparent stay untraced.
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const ready = /"url":"(http:\/\/[^"]+)".*"msg":"pronto is ready"/.exec(out);
        if (ready) resolve(ready[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    const traceId = '5bf92f3577b34da6a3ce929d0e0e4737';
    const callerSpan = '10f067aa0ba902b7';
    const chat = await fetch(`${url}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ text: 'How does pronto degrade when a stage is slow?' }),
    });
    let done: { trace_id?: string } | undefined;
    for await (const event of readSse(chat)) if (event.event === 'done') done = event.data;
    assert.equal(done?.trace_id, traceId, 'the done event carries the trace id');
    assert.equal((await fetch(`${url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"unsampled"}' })).status, 200);

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);

    assert.ok(receiver.received.length > 0, 'spans arrived at the receiver');
    for (const batch of receiver.received) {
      assert.equal(batch.resource['service.name'], 'pronto-under-test');
      assert.equal(batch.resource['deployment.environment'], 'ci');
      assert.equal(batch.resource['team'], 'search');
    }
    const spans = receiver.received.flatMap((r) => r.spans);
    assert.ok(spans.every((s) => s.traceId === traceId), `only the sampled request was traced: ${spans.map((s) => s.name)}`);
    const root = spans.find((s) => s.name === 'POST /v1/chat');
    assert.ok(root, 'the request span');
    assert.equal(root.parentSpanId, callerSpan, 'continuing the caller trace');
    const stages = spans.filter((s) => s.parentSpanId === root.spanId).map((s) => s.name);
    for (const stage of ['sanitize', 'embed', 'retrieve', 'generate', 'postprocess']) assert.ok(stages.includes(stage), `${stage} span in ${stages}`);
    const batch = spans.find((s) => s.name === 'batch use-lite');
    assert.ok(batch, `a model batch span in ${spans.map((s) => s.name)}`);
    assert.ok(batch.links?.some((l) => l.traceId === traceId && l.spanId === root.spanId), 'linked to the request');
    const size = batch.attributes?.find((a) => a.key === 'pronto.batch.size');
    assert.ok(size && Number(Object.values(size.value)[0]) >= 1, 'with its size');

    const requestLine = out.split('\n').find((line) => line.includes('"msg":"request"') && line.includes('/v1/chat'));
    assert.ok(requestLine?.includes(`"trace_id":"${traceId}"`), `the request's log line carries the trace id: ${requestLine}`);
  } finally {
    child.kill('SIGKILL');
    receiver.server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
