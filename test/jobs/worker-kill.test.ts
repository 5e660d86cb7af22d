import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { createRedisJobQueue } from '../../src/jobs/redis-queue.js';
import type { JobQueue, JobView } from '../../src/jobs/types.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { waitForStatus } from './support/contract.js';
import { REDIS_URL, deleteKeys, redisUnavailable, testConfig, waitFor } from './support/queues.js';
import { startReceiver } from './support/receiver.js';

const ENTRY = fileURLToPath(new URL('./fixtures/slow-worker.ts', import.meta.url));
const skip = await redisUnavailable();

/** Starts a worker process and resolves once it takes jobs. */
async function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('READY')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready: ${output}`)));
  });
  return child;
}

// Two real `pronto worker` processes (runWorker with a slow handler) and an API-side queue in
// this process that only submits, polls and cancels.
describe('worker processes', { skip, timeout: 115_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-workers-'));
  const config = testConfig('redis', { lock_ms: 1000, stalled_interval_ms: 500, concurrency: 1 });
  const jobLog = join(dir, 'jobs.log');
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let api: JobQueue;
  let workers: ChildProcess[] = [];
  let env: NodeJS.ProcessEnv = {};
  const addWorker = async () => {
    const child = await startWorker(env);
    workers.push(child);
    return child;
  };
  const finished = (jobId: string) => async () => {
    const v = await api.get('t', jobId);
    return v.status === 'succeeded' || v.status === 'failed' ? v : undefined;
  };
  const linesOf = (jobId: string) =>
    readFileSync(jobLog, 'utf8')
      .split('\n')
      .filter((line) => line.includes(jobId));
  const deliveriesOf = (jobId: string) => receiver.deliveries.filter((d) => d.headers['x-pronto-job-id'] === jobId);
  /** The worker process that started the job. */
  const startedBy = async (jobId: string) => {
    const pid = await waitFor(() => linesOf(jobId)[0]?.split(' ')[2], 15_000, 'a worker to start the job');
    return workers.find((w) => String(w.pid) === pid)!;
  };

  before(async () => {
    receiver = await startReceiver();
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({ jobs: config.jobs, server: { shutdown_grace_ms: 1000 }, observability: { log_level: 'warn' } }),
    );
    writeFileSync(jobLog, '');
    api = createRedisJobQueue(config, { metrics: createMetrics({ defaultMetrics: false }), logger: pino({ level: 'silent' }) });
    env = { REDIS_URL, PRONTO_CONFIG: configFile, JOB_LOG: jobLog, SLOW_JOB_MS: '2500' };
    workers = await Promise.all([startWorker(env), startWorker(env)]);
  });

  after(async () => {
    for (const child of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await api?.close();
    await receiver?.close();
    await deleteKeys(config.jobs.prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  test('DELETE reaches the process running the job: its handler stops, the job ends cancelled', async () => {
    const { jobId } = await api.submit({ tenant: 't', kind: 'chat', input: {}, callbackUrl: receiver.url });
    await startedBy(jobId);
    assert.equal((await api.cancel('t', jobId)).status, 'cancelled');
    const view = await waitForStatus(api, 't', jobId);
    assert.equal(view.status, 'cancelled');
    assert.equal(view.error?.code, 'cancelled');
    await waitFor(() => (deliveriesOf(jobId).length > 0 ? true : undefined), 10_000, 'the callback');
    assert.equal((JSON.parse(deliveriesOf(jobId)[0].body) as JobView).status, 'cancelled');
    const pid = linesOf(jobId)[0].split(' ')[2];
    await waitFor(() => (linesOf(jobId).length === 2 ? true : undefined), 5000, 'the handler to stop');
    assert.deepEqual(linesOf(jobId), [`start ${jobId} ${pid}`, `aborted ${jobId} ${pid} cancelled`]);
  });

  test('a worker killed with SIGKILL mid-job: another worker finishes it, exactly once', async () => {
    const { jobId } = await api.submit({ tenant: 't', kind: 'ingest', input: { documents: [] }, callbackUrl: receiver.url });
    const first = await startedBy(jobId);
    const second = workers.find((w) => w !== first)!;
    assert.equal((await api.get('t', jobId)).status, 'running');
    first.kill('SIGKILL');
    await once(first, 'exit');

    const view = await waitFor(
      async () => {
        const v = await api.get('t', jobId);
        return v.status === 'succeeded' || v.status === 'failed' ? v : undefined;
      },
      20_000,
      'the job to finish on the second worker',
    );
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(view.result, { pid: second.pid });
    assert.equal(view.attempts, 2);

    await waitFor(() => (deliveriesOf(jobId).length > 0 ? true : undefined), 10_000, 'the callback');
    // Give a duplicate every chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(linesOf(jobId), [`start ${jobId} ${first.pid}`, `start ${jobId} ${second.pid}`, `done ${jobId} ${second.pid}`]);
    assert.equal(deliveriesOf(jobId).length, 1);
    const delivered = JSON.parse(deliveriesOf(jobId)[0].body) as JobView;
    assert.equal(delivered.status, 'succeeded');
    assert.deepEqual(delivered.result, { pid: second.pid });

    assert.equal(deliveriesOf(jobId)[0].headers['x-pronto-delivery-id'], `${jobId}.succeeded`);
  });

  test('SIGTERM past the grace period hands the running job back: another worker runs it at once', async () => {
    while (workers.filter((w) => w.exitCode === null && w.signalCode === null).length < 2) await addWorker();
    // The job outlasts the stopping worker's 1 s grace period.
    const { jobId } = await api.submit({ tenant: 't', kind: 'chat', input: { ms: 3500 }, callbackUrl: receiver.url });
    const first = await startedBy(jobId);
    first.kill('SIGTERM');
    const [code] = await once(first, 'exit');
    assert.equal(code, 0, 'the worker exits cleanly on SIGTERM');
    const view = await waitFor(finished(jobId), 20_000, 'the job to finish on another worker');
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    const lines = linesOf(jobId);
    assert.deepEqual(lines.slice(0, 2), [`start ${jobId} ${first.pid}`, `aborted ${jobId} ${first.pid} shutting_down`]);
    assert.equal(lines.filter((l) => l.startsWith('done')).length, 1);
    await waitFor(() => (deliveriesOf(jobId).length > 0 ? true : undefined), 10_000, 'the callback');
    assert.equal(deliveriesOf(jobId).length, 1);
  });

  test('kill -9 of a worker under a stream of jobs: every job succeeds once, every callback is sent once', async () => {
    await addWorker();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push((await api.submit({ tenant: 't', kind: 'embed', input: { ms: 300 }, callbackUrl: receiver.url })).jobId);
    }
    const victim = await startedBy(ids[2]);
    victim.kill('SIGKILL');
    await once(victim, 'exit');
    await addWorker();
    const views = await Promise.all(ids.map((id) => waitFor(finished(id), 40_000, `job ${id} to finish`)));
    assert.deepEqual(
      views.map((v) => v.status),
      ids.map(() => 'succeeded'),
    );
    await waitFor(() => (ids.every((id) => deliveriesOf(id).length > 0) ? true : undefined), 20_000, 'every callback');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const id of ids) {
      assert.equal(deliveriesOf(id).length, 1, `one callback for ${id}`);
      assert.equal(deliveriesOf(id)[0].headers['x-pronto-delivery-id'], `${id}.succeeded`);
      // Run to the end once, by a worker still alive (or by the victim before it was killed).
      const done = linesOf(id).filter((l) => l.startsWith('done'));
      const result = views[ids.indexOf(id)].result as { pid: number };
      assert.ok(done.includes(`done ${id} ${result.pid}`), linesOf(id).join('\n'));
      assert.equal(done.filter((l) => !l.endsWith(` ${victim.pid}`)).length, result.pid === victim.pid ? 0 : 1, linesOf(id).join('\n'));
    }
  });
});
