import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { metricValue, readSse, startTestServer, type TestServer } from '../support/server.js';

/**
 * Multi-step flows (`flows` in config, `/v1/chat` with `flow`): the deterministic planner over the
 * sample corpus (pronto's own docs), step streaming over SSE and WebSocket, a flow whose budget
 * runs out mid-step answering from what it found before, and flows run as jobs (in-process queue;
 * the BullMQ queue keeps steps the same way, test/jobs/support/contract.ts).
 */

const TWO_HOP = 'What does status 429 mean and where do jobs run with REDIS_URL?';

interface Event {
  type: string;
  [field: string]: any;
}

async function chatOverSse(server: TestServer, body: unknown): Promise<Event[]> {
  const res = await server.post('/v1/chat', body);
  assert.equal(res.status, 200, await res.clone().text());
  const events: Event[] = [];
  for await (const { event, data } of readSse(res)) events.push({ type: event, ...data });
  return events;
}

async function chatOverWebSocket(server: TestServer, body: unknown): Promise<Event[]> {
  const { default: WebSocket } = await import('ws');
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/chat/ws`);
  await new Promise((resolve) => socket.once('open', resolve));
  try {
    return await new Promise<Event[]>((resolve) => {
      const events: Event[] = [];
      socket.on('message', (raw) => {
        const event = JSON.parse(String(raw)) as Event;
        events.push(event);
        if (event.type === 'done' || event.type === 'error') resolve(events);
      });
      socket.send(JSON.stringify(body));
    });
  } finally {
    socket.close();
  }
}

/** Every `step` event before `contexts`, then tokens, then `done` last. */
function assertStepsFirst(events: Event[]) {
  const types = events.map((e) => e.type);
  const firstOther = types.findIndex((t) => t !== 'step');
  assert.ok(firstOther > 0, `steps come first: ${types.join(',')}`);
  assert.equal(types[firstOther], 'contexts');
  assert.ok(!types.slice(firstOther).includes('step'), `no step after the answer began: ${types.join(',')}`);
  assert.ok(types.includes('token'));
  assert.equal(types[types.length - 1], 'done');
}

describe('flows', () => {
  let server: TestServer;
  const exporter = new InMemorySpanExporter();
  before(async () => {
    server = await startTestServer({
      flows: {
        // Its second retrieve stalls (test fault) until the flow's budget runs out.
        stalls: {
          budget_ms: 3000,
          steps: [
            { kind: 'retrieve', name: 'first_hop', mode: 'sparse' },
            { kind: 'retrieve', name: 'second_hop', mode: 'sparse' },
            { kind: 'generate' },
          ],
        },
        // Its second step fails (test fault) and may not be skipped: the request fails after a step.
        fails_late: {
          steps: [
            { kind: 'retrieve', name: 'first_hop', mode: 'sparse' },
            { kind: 'retrieve', name: 'must', mode: 'sparse', on_failure: 'fail' },
            { kind: 'generate' },
          ],
        },
        // Its second step fails (test fault) and is skipped, flagged.
        skips: {
          steps: [
            { kind: 'retrieve', name: 'first_hop', mode: 'sparse' },
            { kind: 'retrieve', name: 'flaky', mode: 'sparse' },
            { kind: 'generate' },
          ],
        },
      },
      faults: { 'step.flaky': { mode: 'throw' }, 'step.second_hop': { mode: 'delay', delay_ms: 600_000 }, 'step.must': { mode: 'throw' } },
    }, { spanExporter: exporter });
  });
  after(() => server.close());

  test('the deterministic planner answers a two-hop question with both hops cited', async () => {
    const res = await server.post('/v1/chat', { text: TWO_HOP, flow: 'decompose', stream: false });
    assert.equal(res.status, 200);
    const body = await res.json();
    const docOf = new Map<string, string>(body.contexts.map((c: { id: string; doc_id: string }) => [c.id, c.doc_id]));
    const citedDocs = new Set(body.citations.map((id: string) => docOf.get(id)));
    assert.ok([...citedDocs].some((doc) => /status-codes/.test(doc as string)), `429 hop cited: ${[...citedDocs]}`);
    assert.ok([...citedDocs].some((doc) => /jobs/.test(doc as string)), `jobs hop cited: ${[...citedDocs]}`);
    assert.match(body.answer, /429/);
    assert.match(body.answer, /worker|BullMQ|Redis/);
    assert.deepEqual(body.degraded, []);
    assert.ok(body.timings['step.rewrite'] !== undefined && body.timings['step.retrieve'] !== undefined, JSON.stringify(body.timings));
    assert.deepEqual(
      body.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`),
      ['rewrite:ok', 'retrieve:ok', 'retrieve:ok', 'rerank:skipped', 'rerank:skipped', 'generate:running'],
      'the whole answer carries its steps',
    );
  });

  test('SSE: step events (name, status, timing, retrieved ids) stream before the answer', async () => {
    const events = await chatOverSse(server, { text: TWO_HOP, flow: 'decompose' });
    assertStepsFirst(events);
    const steps = events.filter((e) => e.type === 'step');
    assert.deepEqual(
      steps.map((s) => `${s.name}:${s.part ?? '-'}`),
      ['rewrite:-', 'retrieve:0', 'retrieve:1', 'rerank:0', 'rerank:1', 'generate:-'],
    );
    assert.deepEqual(steps[0].parts, ['What does status 429 mean', 'where do jobs run with REDIS_URL?']);
    for (const step of steps.slice(1, 3)) {
      assert.equal(step.status, 'ok');
      assert.ok(step.ids.length > 0 && typeof step.ms === 'number');
    }
    assert.equal(steps[3].status, 'skipped', 'no reranker is configured');
    assert.equal(steps[5].status, 'running');
    const contexts = events.find((e) => e.type === 'contexts')!.contexts.map((c: { id: string }) => c.id);
    assert.ok(steps[1].ids.every((id: string) => contexts.includes(id)), 'the merged contexts hold the first hop');
    assert.ok(steps[2].ids.every((id: string) => contexts.includes(id)), 'and the second');
  });

  test('WebSocket: the same step events, in the same order, come before the answer', async () => {
    const overWs = await chatOverWebSocket(server, { text: TWO_HOP, flow: 'decompose' });
    const overSse = await chatOverSse(server, { text: TWO_HOP, flow: 'decompose' });
    assertStepsFirst(overWs);
    const order = (events: Event[]) => events.filter((e) => e.type === 'step').map((s) => `${s.name}:${s.part ?? '-'}:${s.status}`);
    assert.deepEqual(order(overWs), ['rewrite:-:ok', 'retrieve:0:ok', 'retrieve:1:ok', 'rerank:0:skipped', 'rerank:1:skipped', 'generate:-:running']);
    assert.deepEqual(order(overSse), order(overWs));
  });

  test('a step event says when it started: steps follow one another from the request start', async () => {
    const steps = (await chatOverSse(server, { text: TWO_HOP, flow: 'decompose' })).filter((e) => e.type === 'step');
    let end = 0;
    for (const step of steps) {
      assert.ok(step.start_ms >= end - 0.2, `${step.name} starts after the step before ended: ${JSON.stringify(steps)}`);
      end = step.start_ms + step.ms;
    }
    assert.ok(steps[0].start_ms > 0, 'sanitize ran before the first step');
    assert.ok(steps.every((step) => step.degraded === undefined), 'nothing fell back');
  });

  test('a step that fails and is skipped carries the fallback it took', async () => {
    const events = await chatOverSse(server, { text: 'What does status 429 mean?', flow: 'skips' });
    const flaky = events.find((e) => e.type === 'step' && e.name === 'flaky')!;
    assert.equal(flaky.status, 'skipped');
    assert.deepEqual(
      flaky.degraded.map((d: { stage: string; fallback: string }) => `${d.stage}->${d.fallback}`),
      ['step.flaky->skipped'],
    );
    assert.equal(events.at(-1)!.type, 'done');
  });

  test("every step's time, outcome and fallback are a metric and a span", async () => {
    const metric = (stage: string, outcome: string) => metricValue(server.url, 'pronto_stage_duration_seconds_count', { flow: 'flow:skips', stage, outcome });
    const degradations = () => metricValue(server.url, 'pronto_degradations_total', { stage: 'step.flaky' });
    const before = { ok: await metric('step.first_hop', 'ok'), error: await metric('step.flaky', 'error'), degraded: await degradations() };
    const traceId = '5cf92f3577b34da6a3ce929d0e0e4737';
    const res = await server.post('/v1/chat', { text: 'What does status 429 mean?', flow: 'skips', stream: false }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    assert.equal(res.status, 200);
    assert.equal(await metric('step.first_hop', 'ok'), before.ok + 1);
    assert.equal(await metric('step.flaky', 'error'), before.error + 1);
    assert.equal(await degradations(), before.degraded + 1);
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    const first = spans.find((span) => span.name === 'step.first_hop');
    const flaky = spans.find((span) => span.name === 'step.flaky');
    assert.equal(first?.attributes['pronto.flow'], 'flow:skips');
    assert.equal(first?.attributes['pronto.outcome'], 'ok');
    assert.equal(flaky?.attributes['pronto.outcome'], 'error');
    assert.equal(flaky?.attributes['pronto.degraded'], 'error->skipped');
    // The stages inside a step are spans of their own, with the step's time covering them.
    assert.ok(spans.some((span) => span.name === 'retrieve'), spans.map((span) => span.name).join(','));
  });

  test('SSE: a step goes out as it ends, while the next step still runs (the status line with it)', async () => {
    const labels = { flow: 'flow:stalls', stage: 'step.second_hop' };
    const before = await metricValue(server.url, 'pronto_stage_duration_seconds_count', labels);
    const client = new AbortController();
    const res = await fetch(`${server.url}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'What does status 429 mean?', flow: 'stalls' }),
      signal: client.signal,
    });
    try {
      assert.equal(res.status, 200);
      const { value: first } = await readSse(res)[Symbol.asyncIterator]().next();
      assert.equal(`${first.event}:${first.data.name}:${first.data.status}`, 'step:first_hop:ok');
      // The second hop (stalling until the flow's budget ends) has not finished yet.
      assert.equal(await metricValue(server.url, 'pronto_stage_duration_seconds_count', labels), before);
    } finally {
      client.abort();
    }
  });

  test('SSE and WebSocket: a failure after the first step is an error event with its catalogue code', async () => {
    for (const events of [
      await chatOverSse(server, { text: 'What does status 429 mean?', flow: 'fails_late' }),
      await chatOverWebSocket(server, { text: 'What does status 429 mean?', flow: 'fails_late' }),
    ]) {
      assert.deepEqual(
        events.map((e) => (e.type === 'step' ? `step:${e.name}:${e.status}` : e.type)),
        ['step:first_hop:ok', 'error'],
      );
      assert.equal(events[1].error.code, 'upstream_failed');
    }
    // Before any step (an unknown namespace fails the first retrieve): still the real status.
    const res = await server.post('/v1/chat', { text: 'anything', flow: 'fails_late', namespace: 'no-such-namespace' });
    assert.equal(res.status, 404, await res.clone().text());
  });

  test('WebSocket: a step goes out as it ends, while the next step still runs', async () => {
    const labels = { flow: 'flow:stalls', stage: 'step.second_hop' };
    const before = await metricValue(server.url, 'pronto_stage_duration_seconds_count', labels);
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/chat/ws`);
    await new Promise((resolve) => socket.once('open', resolve));
    try {
      const first = await new Promise<Event>((resolve) => {
        socket.once('message', (raw) => resolve(JSON.parse(String(raw)) as Event));
        socket.send(JSON.stringify({ text: 'What does status 429 mean?', flow: 'stalls' }));
      });
      assert.equal(`${first.type}:${first.name}:${first.status}`, 'step:first_hop:ok');
      // The second hop (stalling until the flow's budget ends) has not finished yet.
      assert.equal(await metricValue(server.url, 'pronto_stage_duration_seconds_count', labels), before);
    } finally {
      socket.close();
    }
  });

  test('a flow whose budget runs out mid-step answers from what it found, flagged', async () => {
    const events = await chatOverSse(server, { text: 'What does status 429 mean?', flow: 'stalls' });
    assertStepsFirst(events);
    const steps = events.filter((e) => e.type === 'step');
    assert.deepEqual(
      steps.map((s) => `${s.name}:${s.status}`),
      ['first_hop:ok', 'second_hop:aborted', 'generate:running'],
    );
    const done = events[events.length - 1];
    assert.deepEqual(
      done.degraded.filter((d: { stage: string }) => d.stage === 'flow'),
      [{ stage: 'flow', reason: 'budget_exhausted', fallback: 'best_so_far' }],
    );
    const answer = events
      .filter((e) => e.type === 'token')
      .map((e) => e.text)
      .join('');
    assert.match(answer, /429/, 'the first hop answers');
    assert.ok(done.citations.length > 0);
  });

  async function job(id: string): Promise<Record<string, any>> {
    const res = await fetch(`${server.url}/v1/jobs/${id}`);
    assert.equal(res.status, 200);
    return res.json();
  }
  async function jobUntil(id: string, done: (view: Record<string, any>) => boolean): Promise<Record<string, any>> {
    for (let i = 0; i < 600; i++) {
      const view = await job(id);
      if (done(view)) return view;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`job ${id} never got there: ${JSON.stringify(await job(id))}`);
  }
  const submitFlowJob = async (input: unknown) => {
    const res = await server.post('/v1/jobs', { kind: 'flow', input });
    assert.equal(res.status, 202, await res.clone().text());
    return ((await res.json()) as { job_id: string }).job_id;
  };

  test('a flow job answers with its steps', async () => {
    const id = await submitFlowJob({ text: TWO_HOP, flow: 'decompose' });
    const view = await jobUntil(id, (v) => v.status !== 'queued' && v.status !== 'running');
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(
      view.steps.map((s: { name: string; part?: number }) => `${s.name}:${s.part ?? '-'}`),
      ['rewrite:-', 'retrieve:0', 'retrieve:1', 'rerank:0', 'rerank:1', 'generate:-'],
    );
    assert.deepEqual(view.result.steps, view.steps);
    assert.match(view.result.answer, /429/);
    assert.ok(view.result.citations.length >= 2);
  });

  test('a flow job cancelled mid-step stops that step', async () => {
    const id = await submitFlowJob({ text: 'What does status 429 mean?', flow: 'stalls' });
    // The first hop is done (progress 1 of 3 steps) and the second is stalling.
    const running = await jobUntil(id, (v) => v.steps?.length === 1);
    assert.equal(running.status, 'running');
    assert.equal(running.progress, 1 / 3);
    assert.equal(running.steps[0].name, 'first_hop');
    const labels = { flow: 'flow:stalls', stage: 'step.second_hop', outcome: 'aborted' };
    const abortedBefore = await metricValue(server.url, 'pronto_stage_duration_seconds_count', labels);
    const res = await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, 'cancelled');
    const stopped = await job(id);
    assert.equal(stopped.status, 'cancelled');
    assert.equal(stopped.error.code, 'cancelled');
    assert.deepEqual(
      stopped.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`),
      ['first_hop:ok'],
    );
    // The stalled step ends now (aborted), not when its 10-minute stall would have.
    for (let i = 0; i < 100 && (await metricValue(server.url, 'pronto_stage_duration_seconds_count', labels)) === abortedBefore; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await metricValue(server.url, 'pronto_stage_duration_seconds_count', labels), abortedBefore + 1);
  });

  test('a flow job naming an unknown flow is refused at submit', async () => {
    const res = await server.post('/v1/jobs', { kind: 'flow', input: { text: 'anything', flow: 'nope' } });
    assert.equal(res.status, 404);
    const body = await res.json();
    assert.equal(body.error.code, 'unknown_flow');
    assert.equal(body.error.field, 'input.flow');
    const missing = await server.post('/v1/jobs', { kind: 'flow', input: { text: 'anything' } });
    assert.equal(missing.status, 400);
    assert.equal((await missing.json()).error.field, 'input.flow');
    const onChat = await server.post('/v1/jobs', { kind: 'chat', input: { text: 'anything', flow: 'decompose' } });
    assert.equal(onChat.status, 400, 'a chat job does not run flows: kind flow does');
    assert.equal((await onChat.json()).error.field, 'input.flow');
  });

  test('an unknown flow is a 404 naming the field', async () => {
    const res = await server.post('/v1/chat', { text: 'anything', flow: 'nope' });
    assert.equal(res.status, 404);
    const body = await res.json();
    assert.equal(body.error.code, 'unknown_flow');
    assert.equal(body.error.field, 'flow');
  });
});
