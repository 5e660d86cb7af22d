import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeepPartial } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { isProntoError } from '../../../src/core/errors.js';
import { verifyCallback } from '../../../src/jobs/callbacks/signature.js';
import type { JobQueue, JobStatus, JobView } from '../../../src/jobs/types.js';
import { scriptedHandlers, type ScriptedHandlers } from './handlers.js';
import { redisUnavailable, startQueue, waitFor, type Backend, type TestQueue } from './queues.js';
import { startReceiver } from './receiver.js';

const FINISHED: JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export function waitForStatus(queue: JobQueue, tenant: string, id: string, statuses: JobStatus[] = FINISHED): Promise<JobView> {
  return waitFor(
    async () => {
      const view = await queue.get(tenant, id);
      return statuses.includes(view.status) ? view : undefined;
    },
    10_000,
    `job ${id} to be ${statuses.join('|')}`,
  );
}

async function rejectsWith(promise: Promise<unknown>, code: string, field?: string) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isProntoError(err), `expected a ProntoError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (field !== undefined) assert.equal(err.field, field);
    return true;
  });
}

/**
 * The job queue contract, run against both backends (test/jobs/memory-queue.test.ts and
 * test/jobs/redis-queue.test.ts): the same calls must give the same observable behaviour.
 */
export function jobQueueContract(backend: Backend): void {
  describe(`job queue contract (${backend})`, async () => {
    const skip = backend === 'redis' ? await redisUnavailable() : false;
    let script: ScriptedHandlers;
    const open: TestQueue[] = [];
    let metrics: TestQueue['metrics'];
    const start = async (overrides: DeepPartial<Config['jobs']> = {}) => {
      script = scriptedHandlers();
      const q = await startQueue(backend, script.handlers, overrides);
      open.push(q);
      metrics = q.metrics;
      return q.queue;
    };
    const sample = async (name: string, labels: Record<string, string>) => {
      // Histograms list buckets, sum and count under the base name, each with its own metricName.
      const base = name.replace(/_count$/, '');
      const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === base);
      const match = metric?.values.find(
        (v) =>
          ((v as { metricName?: string }).metricName ?? base) === name && Object.entries(labels).every(([k, want]) => v.labels[k] === want),
      );
      return match?.value;
    };
    after(async () => {
      for (const q of open) await q.close();
    });

    test('a job runs and its result can be polled; records carry no PII', { skip }, async () => {
      const queue = await start();
      const { jobId, created } = await queue.submit({ tenant: 'acme', kind: 'embed', input: { texts: ['mail jane@example.com'] } });
      assert.equal(created, true);
      const view = await waitForStatus(queue, 'acme', jobId);
      assert.equal(view.status, 'succeeded');
      assert.equal(view.kind, 'embed');
      assert.equal(view.attempts, 1);
      assert.deepEqual(view.result, { echo: { texts: ['mail [EMAIL]'] }, attempt: 1 });
      assert.ok(view.created_at <= view.started_at! && view.started_at! <= view.finished_at!);
      assert.doesNotMatch(JSON.stringify(view), /jane@example\.com/);
    });

    test('ids of other tenants, unknown and malformed ids are all not_found', { skip }, async () => {
      const queue = await start();
      const { jobId } = await queue.submit({ tenant: 'acme', kind: 'infer', input: { text: 'hi' } });
      await rejectsWith(queue.get('other', jobId), 'not_found');
      await rejectsWith(queue.cancel('other', jobId), 'not_found');
      await rejectsWith(queue.get('acme', '00000000-0000-4000-8000-000000000000'), 'not_found');
      await rejectsWith(queue.get('acme', '../../etc'), 'not_found');
      assert.equal((await waitForStatus(queue, 'acme', jobId)).status, 'succeeded');
    });

    test('cancelling a queued job: it never runs; a running job: its handler is aborted', { skip }, async () => {
      const queue = await start({ concurrency: 1 });
      const running = await queue.submit({ tenant: 't', kind: 'chat', input: { behave: 'gate:g' } });
      await waitForStatus(queue, 't', running.jobId, ['running']);
      const queued = await queue.submit({ tenant: 't', kind: 'chat', input: { text: 'later' } });
      const cancelledQueued = await queue.cancel('t', queued.jobId);
      assert.equal(cancelledQueued.status, 'cancelled');
      const runningCancel = await queue.cancel('t', running.jobId);
      assert.equal(runningCancel.status, 'cancelled', JSON.stringify(runningCancel));
      const runningView = await waitFor(async () => (script.aborted.has(running.jobId) ? queue.get('t', running.jobId) : undefined));
      assert.equal(script.aborted.get(running.jobId), 'cancelled');
      assert.equal(runningView.status, 'cancelled');
      assert.equal(runningView.error?.code, 'cancelled');
      // The worker is free again and the cancelled queued job never ran.
      const next = await queue.submit({ tenant: 't', kind: 'chat', input: { text: 'next' } });
      assert.equal((await waitForStatus(queue, 't', next.jobId)).status, 'succeeded');
      assert.equal(script.attempts.get(queued.jobId), undefined);
      assert.equal((await queue.get('t', queued.jobId)).status, 'cancelled');
      // Cancelling a finished job changes nothing.
      assert.equal((await queue.cancel('t', next.jobId)).status, 'succeeded');
    });

    test("a flow job's steps show while it runs (redacted) and stay once it has finished", { skip }, async () => {
      const queue = await start();
      const { jobId } = await queue.submit({ tenant: 't', kind: 'flow', input: { behave: 'steps:s' } });
      const running = await waitFor(async () => {
        const view = await queue.get('t', jobId);
        return view.steps ? view : undefined;
      });
      assert.equal(running.status, 'running');
      assert.equal(running.progress, 0.25);
      assert.deepEqual(running.steps, [{ name: 'rewrite', kind: 'rewrite', status: 'ok', ms: 1, start_ms: 0, parts: ['mail [EMAIL]', 'and then?'] }]);
      script.open('s');
      const done = await waitForStatus(queue, 't', jobId);
      assert.equal(done.status, 'succeeded');
      assert.equal(done.progress, undefined);
      assert.deepEqual(done.steps, running.steps);
    });

    test('higher priority (lower number) runs first; FIFO within a priority', { skip }, async () => {
      const queue = await start({ concurrency: 1 });
      const blocker = await queue.submit({ tenant: 't', kind: 'ingest', input: { behave: 'gate:p' } });
      await waitForStatus(queue, 't', blocker.jobId, ['running']);
      const low = await queue.submit({ tenant: 't', kind: 'embed', input: {}, priority: 9 });
      const normal1 = await queue.submit({ tenant: 't', kind: 'embed', input: {} });
      const high = await queue.submit({ tenant: 't', kind: 'embed', input: {}, priority: 1 });
      const normal2 = await queue.submit({ tenant: 't', kind: 'embed', input: {} });
      script.open('p');
      await waitForStatus(queue, 't', low.jobId);
      assert.deepEqual(script.starts, [blocker.jobId, high.jobId, normal1.jobId, normal2.jobId, low.jobId]);
    });

    test('the same idempotency key from the same tenant is one job that runs once', { skip }, async () => {
      const queue = await start();
      const submit = (tenant: string) => queue.submit({ tenant, kind: 'embed', input: { texts: ['a'] }, idempotencyKey: 'order-42' });
      const results = await Promise.all([submit('t'), submit('t'), submit('t')]);
      const ids = new Set(results.map((r) => r.jobId));
      assert.equal(ids.size, 1);
      const [jobId] = ids;
      await waitForStatus(queue, 't', jobId);
      const again = await submit('t');
      assert.deepEqual(again, { jobId, created: false });
      const other = await submit('u');
      assert.notEqual(other.jobId, jobId);
      await waitForStatus(queue, 'u', other.jobId);
      assert.equal(script.attempts.get(jobId), 1);
      assert.equal(script.starts.filter((id) => id === jobId).length, 1);
    });

    test('a full queue refuses new jobs with queue_full and a retry hint', { skip }, async () => {
      const queue = await start({ concurrency: 1, max_queue_depth: 2, retry_after_s: 7 });
      const a = await queue.submit({ tenant: 't', kind: 'chat', input: { behave: 'gate:f' } });
      await queue.submit({ tenant: 't', kind: 'chat', input: {} });
      await assert.rejects(queue.submit({ tenant: 't', kind: 'chat', input: {} }), (err: unknown) => {
        assert.ok(isProntoError(err));
        assert.equal(err.code, 'queue_full');
        assert.equal(err.status, 429);
        assert.equal(err.retryAfterS, 7);
        return true;
      });
      script.open('f');
      await waitForStatus(queue, 't', a.jobId);
      const later = await waitFor(() => queue.submit({ tenant: 't', kind: 'chat', input: {} }).catch(() => undefined));
      assert.equal((await waitForStatus(queue, 't', later.jobId)).status, 'succeeded');
    });

    test('retryable failures are retried with backoff; others fail at once; exhausted retries fail', { skip }, async () => {
      const queue = await start({ attempts: 3 });
      const flaky = await queue.submit({ tenant: 't', kind: 'infer', input: { behave: 'fail:2:upstream_failed' } });
      const bad = await queue.submit({ tenant: 't', kind: 'infer', input: { behave: 'fail:9:invalid_input' } });
      const doomed = await queue.submit({ tenant: 't', kind: 'infer', input: { behave: 'fail:9:overloaded' } });
      const flakyView = await waitForStatus(queue, 't', flaky.jobId);
      assert.equal(flakyView.status, 'succeeded');
      assert.equal(flakyView.attempts, 3);
      assert.deepEqual((flakyView.result as { attempt: number }).attempt, 3);
      const badView = await waitForStatus(queue, 't', bad.jobId);
      assert.equal(badView.status, 'failed');
      assert.equal(badView.attempts, 1);
      assert.deepEqual(badView.error, { code: 'invalid_input', message: 'scripted failure 1' });
      const doomedView = await waitForStatus(queue, 't', doomed.jobId);
      assert.equal(doomedView.status, 'failed');
      assert.equal(doomedView.attempts, 3);
      assert.equal(doomedView.error?.code, 'overloaded');
    });

    test('a job that overruns its timeout fails with deadline_exceeded, even if it ignores the signal', { skip }, async () => {
      const queue = await start({ timeout_ms: 150 });
      const { jobId } = await queue.submit({ tenant: 't', kind: 'chat', input: { behave: 'ignore-abort' } });
      const view = await waitForStatus(queue, 't', jobId);
      assert.equal(view.status, 'failed');
      assert.equal(view.error?.code, 'deadline_exceeded');
      assert.equal(view.attempts, 1);
    });

    test('finished jobs are removed after result_ttl_s', { skip }, async () => {
      const queue = await start({ result_ttl_s: 1 });
      const { jobId } = await queue.submit({ tenant: 't', kind: 'embed', input: {} });
      await waitForStatus(queue, 't', jobId);
      await waitFor(
        () =>
          queue.get('t', jobId).then(
            () => undefined,
            (err: unknown) => (isProntoError(err) && err.code === 'not_found' ? true : undefined),
          ),
        5000,
        'expiry',
      );
    });

    test('metrics: queue depth by state, outcomes by kind, run time and time queued', { skip }, async () => {
      const queue = await start({ concurrency: 1 });
      const blocker = await queue.submit({ tenant: 't', kind: 'ingest', input: { behave: 'gate:m' } });
      await waitForStatus(queue, 't', blocker.jobId, ['running']);
      const queued = await queue.submit({ tenant: 't', kind: 'embed', input: {} });
      await waitFor(
        async () =>
          (await sample('pronto_job_queue_depth', { state: 'running' })) === 1 &&
          (await sample('pronto_job_queue_depth', { state: 'queued' })) === 1
            ? true
            : undefined,
        10_000,
        'depth gauges',
      );
      script.open('m');
      await waitForStatus(queue, 't', queued.jobId);
      const failing = await queue.submit({ tenant: 't', kind: 'embed', input: { behave: 'fail:1:invalid_input' } });
      await waitForStatus(queue, 't', failing.jobId);
      assert.equal(await sample('pronto_jobs_total', { kind: 'ingest', outcome: 'succeeded' }), 1);
      assert.equal(await sample('pronto_jobs_total', { kind: 'embed', outcome: 'succeeded' }), 1);
      assert.equal(await sample('pronto_jobs_total', { kind: 'embed', outcome: 'failed' }), 1);
      assert.equal(await sample('pronto_job_duration_seconds_count', { kind: 'embed' }), 2);
      assert.equal(await sample('pronto_job_queued_seconds_count', { kind: 'embed' }), 2);
    });

    test('close lets a running job finish (within server.shutdown_grace_ms)', { skip }, async () => {
      const handlers = scriptedHandlers();
      const closable = await startQueue(backend, handlers.handlers);
      const { jobId } = await closable.queue.submit({ tenant: 't', kind: 'chat', input: { behave: 'gate:z' } });
      await waitForStatus(closable.queue, 't', jobId, ['running']);
      const closed = closable.close();
      setTimeout(() => handlers.open('z'), 100);
      await closed;
      assert.equal(handlers.attempts.get(jobId), 1);
      assert.equal(handlers.aborted.has(jobId), false, 'the running job was not aborted');
    });

    describe('callbacks', () => {
      let receiver: Awaited<ReturnType<typeof startReceiver>>;
      before(async () => {
        receiver = await startReceiver([503, 500]);
      });
      after(() => receiver?.close());

      test('the outcome is POSTed once, signed, and redelivered after non-2xx answers', { skip }, async () => {
        const queue = await start();
        const { jobId } = await queue.submit({ tenant: 't', kind: 'embed', input: { texts: ['x'] }, callbackUrl: receiver.url });
        await waitFor(() => (receiver.deliveries.some((d) => d.status === 200) ? true : undefined), 10_000, 'a 2xx delivery');
        assert.equal(receiver.deliveries.length, 3);
        const [first, , last] = receiver.deliveries;
        assert.equal(first.body, last.body);
        assert.equal(last.headers['x-pronto-job-id'], jobId);
        assert.equal(last.headers['x-pronto-delivery-attempt'], '3');
        assert.ok(verifyCallback('test-secret', last.headers['x-pronto-signature'] as string, last.body));
        assert.ok(!verifyCallback('other-secret', last.headers['x-pronto-signature'] as string, last.body));
        assert.ok(!verifyCallback('test-secret', last.headers['x-pronto-signature'] as string, last.body.replace('succeeded', 'failed')));
        const body = JSON.parse(last.body) as JobView;
        assert.equal(body.job_id, jobId);
        assert.equal(body.status, 'succeeded');
        assert.deepEqual(body, await queue.get('t', jobId));
      });

      test('failed and cancelled jobs call back too', { skip }, async () => {
        const hook = await startReceiver();
        try {
          const queue = await start({ concurrency: 1 });
          const failed = await queue.submit({
            tenant: 't',
            kind: 'chat',
            input: { behave: 'fail:1:invalid_input' },
            callbackUrl: hook.url,
          });
          const blocker = await queue.submit({ tenant: 't', kind: 'chat', input: { behave: 'gate:c' } });
          await waitForStatus(queue, 't', blocker.jobId, ['running']);
          const queued = await queue.submit({ tenant: 't', kind: 'chat', input: {}, callbackUrl: hook.url });
          await queue.cancel('t', queued.jobId);
          script.open('c');
          await waitFor(() => (hook.deliveries.length >= 2 ? true : undefined), 10_000, 'two callbacks');
          const statuses = Object.fromEntries(
            hook.deliveries.map((d) => [d.headers['x-pronto-job-id'], (JSON.parse(d.body) as JobView).status]),
          );
          assert.deepEqual(statuses, { [failed.jobId]: 'failed', [queued.jobId]: 'cancelled' });
        } finally {
          await hook.close();
        }
      });
    });

    test('callback URLs to private addresses are refused unless allowed; only http(s)', { skip }, async () => {
      const queue = await start({ callbacks: { allow_private: false } });
      const submit = (callbackUrl: string) => queue.submit({ tenant: 't', kind: 'embed', input: {}, callbackUrl });
      for (const url of [
        'http://127.0.0.1:9/x',
        'http://localhost:9/x',
        'http://10.1.2.3/x',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]/x',
        'http://[fd00::1]/x',
        'http://[::ffff:192.168.1.1]/x',
        'ftp://example.com/x',
        'not a url',
      ]) {
        await rejectsWith(submit(url), 'invalid_input', 'callback_url');
      }
    });
  });
}
