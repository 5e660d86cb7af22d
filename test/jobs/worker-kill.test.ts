import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { createRedisJobQueue } from '../../src/jobs/redis-queue.js';
import type { JobView } from '../../src/jobs/types.js';
import { createMetrics } from '../../src/observability/metrics.js';
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

test('a worker killed with SIGKILL mid-job: another worker finishes it, exactly once', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-kill-'));
  const receiver = await startReceiver();
  const config = testConfig('redis', { lock_ms: 1000, stalled_interval_ms: 500, concurrency: 1 });
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ jobs: config.jobs, observability: { log_level: 'warn' } }));
  const jobLog = join(dir, 'jobs.log');
  writeFileSync(jobLog, '');
  const env = { REDIS_URL, PRONTO_CONFIG: configFile, JOB_LOG: jobLog, SLOW_JOB_MS: '2500' };
  // The API side: submits and polls, runs no jobs.
  const api = createRedisJobQueue(config, { metrics: createMetrics({ defaultMetrics: false }), logger: pino({ level: 'silent' }) });
  const children: ChildProcess[] = [];
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await api.close();
    await receiver.close();
    await deleteKeys(config.jobs.prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  const workers = await Promise.all([startWorker(env), startWorker(env)]);
  children.push(...workers);
  const { jobId } = await api.submit({ tenant: 't', kind: 'ingest', input: { documents: [] }, callbackUrl: receiver.url });
  const startedBy = await waitFor(() => /^start \S+ (\d+)$/m.exec(readFileSync(jobLog, 'utf8'))?.[1], 15_000, 'a worker to start the job');
  const first = workers.find((w) => String(w.pid) === startedBy)!;
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

  await waitFor(() => (receiver.deliveries.length > 0 ? true : undefined), 10_000, 'the callback');
  // Give a duplicate every chance to show up before counting.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const lines = readFileSync(jobLog, 'utf8').trim().split('\n');
  assert.deepEqual(lines, [`start ${jobId} ${first.pid}`, `start ${jobId} ${second.pid}`, `done ${jobId} ${second.pid}`]);
  assert.equal(receiver.deliveries.length, 1);
  const delivered = JSON.parse(receiver.deliveries[0].body) as JobView;
  assert.equal(delivered.status, 'succeeded');
  assert.deepEqual(delivered.result, { pid: second.pid });

  second.kill('SIGTERM');
  const [code] = await once(second, 'exit');
  assert.equal(code, 0, 'the worker exits cleanly on SIGTERM');
});
