import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../../src/config/load.js';
import { readRequestLog } from '../../src/observability/request-log.js';
import { readSse, startTestServer, type TestServer } from '../support/server.js';

const SECRETS = ['jane.doe@example.com', '123-45-6789', '4111 1111 1111 1111', '10.20.30.40', '(555) 867-5309'];
const PII = `email ${SECRETS[0]}, SSN ${SECRETS[1]}, card ${SECRETS[2]}, from ${SECRETS[3]}, phone ${SECRETS[4]}`;
const KEY = 'observability-test-key';

interface LogLine {
  level: number;
  msg: string;
  request_id?: string;
  route?: string;
  timings?: Record<string, number>;
  trace_id?: string;
}

describe('logs, the request log, spans and job records', () => {
  let server: TestServer;
  const spans = new InMemorySpanExporter();
  before(async () => {
    server = await startTestServer(
      {
        auth: { api_keys: [{ key: KEY, tenant: 'acme' }] },
        observability: { log_level: 'debug', slow_request_ms: 1, request_log: { sample_rate: 1 } },
      },
      { spanExporter: spans },
    );
  });
  after(() => server?.close());
  const auth = { authorization: `Bearer ${KEY}` };
  const lines = () =>
    server
      .logs()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LogLine);

  test('planted PII and the API key appear nowhere: logs, request log, spans, job records', async () => {
    const infer = await server.post('/v1/infer', { text: `Who is ${PII}?` }, auth);
    assert.equal(infer.status, 200);
    for await (const event of readSse(await server.post('/v1/chat', { text: `Tell me about ${PII}` }, auth))) assert.notEqual(event.event, 'error');
    assert.equal((await server.post('/v1/search', { query: `customer ${PII}` }, auth)).status, 200);
    const feedback = await server.post('/v1/feedback', { request_id: infer.headers.get('x-request-id'), rating: -1, comment: `wrong about ${PII}` }, auth);
    assert.equal(feedback.status, 202);
    const job = await (await server.post('/v1/jobs', { kind: 'infer', input: { text: `Who is ${PII}?` } }, auth)).json();
    let record = '';
    for (let i = 0; i < 600 && !/"status":"(succeeded|failed)"/.test(record); i++) {
      record = await (await fetch(`${server.url}/v1/jobs/${job.job_id}`, { headers: auth })).text();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(record, /"status":"succeeded"/);
    await server.runtime.requestLog.flush();

    const logDir = join(server.runtime.config.data_dir, 'request-log');
    const requestLog = readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')).join('');
    assert.match(requestLog, /"route":"\/v1\/infer"/, 'the request log has the answered requests');
    assert.match(requestLog, /"type":"feedback"/, 'and the feedback');
    assert.match(requestLog, /\[SSN\]/, 'with the input, redacted');
    const spanText = JSON.stringify(spans.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, links: s.links })));
    assert.ok(spans.getFinishedSpans().length > 0);
    const places = { logs: server.logs(), 'request log': requestLog, spans: spanText, 'job record': record };
    for (const [place, text] of Object.entries(places)) {
      for (const secret of [...SECRETS, KEY]) assert.ok(!text.includes(secret), `${place} leaks ${secret}`);
    }
  });

  test("a cached answer's request-log line has what the fresh answer's had: question, retrieved, answer, citations", async () => {
    const question = { text: 'How do deadlines reach every stage of a request?' };
    const fresh = await server.post('/v1/infer', question, auth);
    const cached = await server.post('/v1/infer', question, auth);
    assert.equal(cached.headers.get('x-pronto-cache'), 'memory', 'the second is served by the results cache');
    await server.runtime.requestLog.flush();
    const records = await readRequestLog(join(server.runtime.config.data_dir, 'request-log'), { since: new Date(0), withFeedback: false });
    const lineOf = (response: Response) => {
      const record = records.find((r) => r.request_id === response.headers.get('x-request-id'));
      assert.ok(record, 'the request is in the log (sample rate 1)');
      const { input, retrieved, output, cited } = record;
      return { input, retrieved, output, cited };
    };
    const freshLine = lineOf(fresh);
    assert.ok(freshLine.output && freshLine.retrieved.length > 0, 'the fresh line has an answer and contexts');
    assert.deepEqual(lineOf(cached), freshLine);
    assert.equal(freshLine.output, (await fresh.json()).answer);
  });

  test('one info line per request; probes and scrapes at debug; a slow request logs its stage breakdown', async () => {
    const res = await server.post('/v1/search', { query: 'budgets' }, { ...auth, 'x-request-id': 'one-line-check' });
    assert.equal(res.status, 200);
    await fetch(`${server.url}/healthz`);
    await fetch(`${server.url}/metrics`);
    const mine = lines().filter((l) => l.request_id === 'one-line-check' || (l as { reqId?: string }).reqId === 'one-line-check');
    assert.equal(mine.filter((l) => l.level === 30).length, 1, `one info line: ${JSON.stringify(mine.filter((l) => l.level === 30))}`);
    const slow = mine.find((l) => l.msg === 'slow request');
    assert.equal(slow?.level, 40);
    assert.deepEqual(Object.keys(slow?.timings ?? {}), ['sanitize', 'embed', 'retrieve'], 'the stages it spent its time in');
    for (const route of ['/healthz', '/metrics']) {
      const probe = lines().filter((l) => l.msg === 'request' && l.route === route);
      assert.ok(probe.length > 0 && probe.every((l) => l.level === 20), `${route} is logged at debug`);
    }
  });

  test('a bad LOG_LEVEL is a configuration error naming the key', () => {
    assert.throws(() => loadConfig({ env: { LOG_LEVEL: 'loud' } }), (err: Error) => /observability\.log_level/.test(err.message) && /LOG_LEVEL/.test(err.message) && /loud/.test(err.message));
    assert.throws(() => loadConfig({ env: {}, overrides: { observability: { log_level: 'verbose' as never } } }), /observability\.log_level/);
    assert.equal(loadConfig({ env: { LOG_LEVEL: 'warn' } }).observability.log_level, 'warn');
  });
});
