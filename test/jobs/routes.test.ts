import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startJobsApp } from './support/app.js';
import { waitFor } from './support/queues.js';

describe('job routes', () => {
  let api: Awaited<ReturnType<typeof startJobsApp>>;
  before(async () => {
    api = await startJobsApp({ max_queue_depth: 3, retry_after_s: 9, concurrency: 1 });
  });
  after(() => api.close());

  const submit = (body: unknown, tenant: 'acme' | 'globex' = 'acme') => api.call('POST', '/v1/jobs', tenant, body);
  const poll = (id: string) =>
    waitFor(async () => {
      const res = await api.call('GET', `/v1/jobs/${id}`, 'acme');
      return ['succeeded', 'failed', 'cancelled'].includes(res.body.status) ? res : undefined;
    });
  async function expectError(res: { status: number; body: any }, status: number, code: string, field?: string) {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.body.error.code, code);
    if (field !== undefined) assert.equal(res.body.error.field, field, JSON.stringify(res.body));
  }

  test('POST answers 202 with the job id; GET shows the result', async () => {
    const res = await submit({ kind: 'embed', input: { texts: ['a', 'b'] } });
    assert.equal(res.status, 202);
    assert.match(res.body.job_id, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.location, `/v1/jobs/${res.body.job_id}`);
    const done = await poll(res.body.job_id);
    assert.equal(done.status, 200);
    assert.equal(done.body.status, 'succeeded');
    assert.deepEqual(done.body.result.echo, { texts: ['a', 'b'] });
    assert.equal(typeof done.body.created_at, 'string');
  });

  test('idempotency keys: the same key answers the same job id', async () => {
    const body = { kind: 'infer', input: { text: 'hi' }, idempotency_key: 'k-1' };
    const a = await submit(body);
    const b = await submit(body);
    assert.equal(a.status, 202);
    assert.equal(b.body.job_id, a.body.job_id);
    assert.notEqual((await submit(body, 'globex')).body.job_id, a.body.job_id);
  });

  test('bad input names the field', async () => {
    await expectError(await submit({ kind: 'train', input: {} }), 400, 'invalid_input', 'kind');
    await expectError(await submit({ input: {} }), 400, 'invalid_input', 'kind');
    await expectError(await submit({ kind: 'embed' }), 400, 'invalid_input', 'input');
    await expectError(await submit({ kind: 'embed', input: {} }), 400, 'invalid_input', 'input.texts');
    await expectError(await submit({ kind: 'embed', input: { texts: ['a', 'b', ''] } }), 400, 'invalid_input', 'input.texts[2]');
    await expectError(await submit({ kind: 'embed', input: { texts: ['a'], colour: 'red' } }), 400, 'unknown_field', 'input.colour');
    await expectError(await submit({ kind: 'infer', input: { text: 'q', top_k: 0 } }), 400, 'invalid_input', 'input.top_k');
    await expectError(await submit({ kind: 'chat', input: {} }), 400, 'invalid_input', 'input.messages');
    await expectError(
      await submit({ kind: 'chat', input: { messages: [{ role: 'assistant', content: 'x' }] } }),
      400,
      'invalid_input',
      'input.messages[0].role',
    );
    await expectError(
      await submit({ kind: 'ingest', input: { documents: [{ id: 'd', text: '' }] } }),
      400,
      'invalid_input',
      'input.documents[0].text',
    );
    await expectError(await submit({ kind: 'embed', input: { texts: ['a'] }, priority: 11 }), 400, 'invalid_input', 'priority');
    await expectError(
      await submit({ kind: 'embed', input: { texts: ['a'] }, callback_url: 'gopher://x' }),
      400,
      'invalid_input',
      'callback_url',
    );
    await expectError(await submit({ kind: 'embed', input: { texts: ['a'] }, extra: 1 }), 400, 'unknown_field', 'extra');
  });

  test("unknown ids and other tenants' ids are 404", async () => {
    const { body } = await submit({ kind: 'embed', input: { texts: ['mine'] } });
    await expectError(await api.call('GET', `/v1/jobs/${body.job_id}`, 'globex'), 404, 'not_found');
    await expectError(await api.call('DELETE', `/v1/jobs/${body.job_id}`, 'globex'), 404, 'not_found');
    await expectError(await api.call('GET', '/v1/jobs/00000000-0000-4000-8000-000000000000', 'acme'), 404, 'not_found');
    await expectError(await api.call('GET', '/v1/jobs/nope', 'acme'), 404, 'not_found');
    await poll(body.job_id);
  });

  test('a full queue is a 429 with Retry-After; DELETE cancels', async () => {
    const gated = (gate: string) => submit({ kind: 'ingest', input: { documents: [{ id: `gate:${gate}`, text: 'x' }] } });
    const running = await gated('r');
    await waitFor(async () =>
      (await api.call('GET', `/v1/jobs/${running.body.job_id}`, 'acme')).body.status === 'running' ? true : undefined,
    );
    const queued = [await gated('q'), await gated('q')];
    const refused = await gated('q');
    await expectError(refused, 429, 'queue_full');
    assert.equal(refused.headers['retry-after'], '9');

    const cancelled = await api.call('DELETE', `/v1/jobs/${queued[1].body.job_id}`, 'acme');
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal(cancelled.body.error.code, 'cancelled');
    const stopped = await api.call('DELETE', `/v1/jobs/${running.body.job_id}`, 'acme');
    assert.equal(stopped.body.status, 'cancelled');
    api.script.open('q');
    assert.equal((await poll(queued[0].body.job_id)).body.status, 'succeeded');
    assert.equal((await poll(running.body.job_id)).body.status, 'cancelled');
  });
});
