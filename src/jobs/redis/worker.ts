import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ProntoError } from '../../core/errors.js';
import { createCallbackSender } from '../callbacks/sender.js';
import { requireHandlers, type JobQueueDeps } from '../deps.js';
import { cancelledError, type JobRecord } from '../run.js';
import { createCallbackProcessor } from './callback-processor.js';
import { isOurFailure } from './failure.js';
import { createJobProcessor, type WorkerState } from './job-processor.js';
import { CALLBACKS_QUEUE, JOBS_QUEUE, type CallbackData, type RedisJobStore } from './store.js';

/** How long a stopping worker waits for Redis to take its jobs back before it just goes. */
const HAND_BACK_MS = 3000;

/**
 * Runs jobs and callback deliveries in this process. Locks and stalled-job recovery are BullMQ's:
 * a worker killed mid-job loses its lock and another worker reruns the job. Returns the stop
 * function: running jobs get `shutdownGraceMs` to finish, then are handed back to the queue.
 */
export async function startRedisWorkers(store: RedisJobStore, deps: JobQueueDeps, shutdownGraceMs: number): Promise<() => Promise<void>> {
  const handlers = requireHandlers(deps);
  await store.connected;
  // Unlike the request path, a worker waits out a Redis outage: its commands queue until the
  // connection is back. (A delivered callback's record is retried on the store's fail-fast
  // connection instead, within a bound: callback-processor.ts.)
  const commands = new Redis(store.url, { maxRetriesPerRequest: null });
  const logRedisError = (err: Error) => deps.logger.warn({ err: err.message }, 'job store (Redis) error');
  commands.on('error', logRedisError);
  const state: WorkerState = { running: new Map(), handingBack: false, commands };
  const subscriber = new Redis(store.url);
  subscriber.on('error', logRedisError);
  subscriber.on('message', (_channel: string, id: string) => state.running.get(id)?.abort(cancelledError()));
  await subscriber.subscribe(store.keys.cancelChannel);
  const sender = createCallbackSender(store.config.callbacks);

  const options = {
    connection: { url: store.url, maxRetriesPerRequest: null },
    prefix: store.prefix,
    lockDuration: store.config.lock_ms,
    stalledInterval: store.config.stalled_interval_ms,
  };
  const worker = new Worker<JobRecord>(JOBS_QUEUE, createJobProcessor(store, { ...deps, handlers }, state), {
    ...options,
    concurrency: store.config.concurrency,
    // A job may lose its worker twice (a crash, then a Redis restart) before BullMQ fails it.
    maxStalledCount: 2,
  });
  const callbackWorker = new Worker<CallbackData>(CALLBACKS_QUEUE, createCallbackProcessor(store, { commands, record: store.redis }, sender, deps.logger), {
    ...options,
    concurrency: 8,
  });
  watchWorkers(store, deps, worker, callbackWorker);
  const cleaner = setInterval(
    () =>
      void Promise.all([store.queue.clean(store.ttlMs, 1000, 'completed'), store.queue.clean(store.ttlMs, 1000, 'failed')]).catch(
        () => undefined,
      ),
    Math.min(store.ttlMs, 60_000),
  );
  cleaner.unref();
  await Promise.all([worker.waitUntilReady(), callbackWorker.waitUntilReady()]);

  return async () => {
    clearInterval(cleaner);
    await stopJobWorker(worker, state, shutdownGraceMs);
    if (!(await settlesWithin(callbackWorker.close(), HAND_BACK_MS))) await callbackWorker.close(true);
    subscriber.disconnect();
    commands.disconnect();
    await sender.close();
  };
}

/** Logs worker errors, and counts and calls back the failures BullMQ decides itself. */
function watchWorkers(store: RedisJobStore, deps: JobQueueDeps, worker: Worker<JobRecord>, callbackWorker: Worker<CallbackData>): void {
  for (const w of [worker, callbackWorker]) {
    w.on('error', (err) => deps.logger.error({ err }, 'job worker error'));
  }
  worker.on('failed', (job, err) => {
    deps.logger.info({ job_id: job?.id, err: err.message }, 'job attempt failed');
    // BullMQ fails a job itself when it stalls too often (its workers kept dying): the
    // processor never saw that outcome, so call back and count it here.
    if (job && !isOurFailure(err.message)) {
      deps.metrics.jobs.inc({ kind: job.data.kind, outcome: 'failed' });
      void store
        .scheduleCallback(job.data)
        .catch((e: Error) => deps.logger.warn({ job_id: job.id, err: e.message }, 'callback not queued'));
    }
  });
}

/**
 * Lets running jobs finish within the grace period; past it, stops them and hands them back to
 * the queue (another worker starts them at once). Should Redis be gone too, the lock runs out
 * and the stalled check requeues them.
 */
async function stopJobWorker(worker: Worker<JobRecord>, state: WorkerState, graceMs: number): Promise<void> {
  const graceful = worker.close();
  if (await settlesWithin(graceful, graceMs)) return;
  state.handingBack = true;
  for (const controller of state.running.values()) controller.abort(new ProntoError('shutting_down'));
  if (!(await settlesWithin(graceful, HAND_BACK_MS))) await worker.close(true);
}

/** Whether `promise` settles within `ms` (it keeps running either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
}
