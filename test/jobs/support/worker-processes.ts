import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createRedisJobQueue } from '../../../src/jobs/redis-queue.js';
import type { JobQueue, JobView } from '../../../src/jobs/types.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { REDIS_URL, deleteKeys, testConfig, waitFor } from './queues.js';
import { startReceiver } from './receiver.js';

const ENTRY = fileURLToPath(new URL('../fixtures/slow-worker.ts', import.meta.url));

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

const isAlive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/**
 * Real `pronto worker` processes (runWorker with the slow fixture handler, which logs
 * start/done/aborted lines per job), an API-side queue in this process that only submits, polls
 * and cancels, and a callback receiver. Short locks, so a killed worker's job moves on quickly.
 */
export async function startWorkerProcesses(count: number) {
  const dir = mkdtempSync(join(tmpdir(), 'pronto-workers-'));
  const config = testConfig('redis', { lock_ms: 1000, stalled_interval_ms: 500, concurrency: 1 });
  const jobLog = join(dir, 'jobs.log');
  const receiver = await startReceiver();
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({ jobs: config.jobs, server: { shutdown_grace_ms: 1000 }, observability: { log_level: 'warn' } }),
  );
  writeFileSync(jobLog, '');
  const api: JobQueue = createRedisJobQueue(config, {
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
  });
  const env = { REDIS_URL, PRONTO_CONFIG: configFile, JOB_LOG: jobLog, SLOW_JOB_MS: '2500' };
  const workers: ChildProcess[] = [];

  const cluster = {
    api,
    receiver,
    workers,
    async addWorker() {
      const child = await startWorker(env);
      workers.push(child);
      return child;
    },
    linesOf: (jobId: string) =>
      readFileSync(jobLog, 'utf8')
        .split('\n')
        .filter((line) => line.includes(jobId)),
    deliveriesOf: (jobId: string) => receiver.deliveries.filter((d) => d.headers['x-pronto-job-id'] === jobId),
    /** The worker process that started the job. */
    async startedBy(jobId: string) {
      const pid = await waitFor(() => cluster.linesOf(jobId)[0]?.split(' ')[2], 15_000, 'a worker to start the job');
      return workers.find((w) => String(w.pid) === pid)!;
    },
    /** The job once it succeeded or failed. */
    finished: (jobId: string, timeoutMs = 20_000) =>
      waitFor(
        async (): Promise<JobView | undefined> => {
          const v = await api.get('t', jobId);
          return v.status === 'succeeded' || v.status === 'failed' ? v : undefined;
        },
        timeoutMs,
        `job ${jobId} to finish`,
      ),
    async close() {
      for (const child of workers) if (isAlive(child)) child.kill('SIGKILL');
      await api.close();
      await receiver.close();
      await deleteKeys(config.jobs.prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await Promise.all(Array.from({ length: count }, () => cluster.addWorker()));
  return cluster;
}

export type WorkerProcesses = Awaited<ReturnType<typeof startWorkerProcesses>>;
