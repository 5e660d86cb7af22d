import type { JobQueueDeps } from '../deps.js';
import { cancelledError, toJobError } from '../run.js';
import { prepareJob, queueFull } from '../submission.js';
import type { JobView, SubmitRequest, SubmitResult } from '../types.js';
import { isFinished, jobView } from '../view.js';
import { QUEUED_STATES, type RedisJobStore, type Tombstone } from './store.js';

/** The request path's submit: idempotent by id, bounded by max_queue_depth, retried by BullMQ. */
export async function submitJob(store: RedisJobStore, deps: Pick<JobQueueDeps, 'metrics'>, request: SubmitRequest): Promise<SubmitResult> {
  const { config } = store;
  const record = await prepareJob(request, config, store.redact);
  if (request.idempotencyKey !== undefined) {
    const existing = await store.loadView(record.id);
    if (existing) return { jobId: record.id, created: false };
    // An expired job still holding the id would swallow the add: clear it first.
    await store.queue.remove(record.id).catch(() => undefined);
  }
  // Count, then add: concurrent submits can overshoot the bound by how many are in flight.
  if ((await store.openJobs()).total >= config.max_queue_depth) {
    deps.metrics.rejections.inc({ reason: 'queue_full' });
    throw queueFull(config);
  }
  await store.queue.add(record.kind, record, {
    jobId: record.id,
    priority: record.priority,
    attempts: config.attempts,
    backoff: { type: 'exponential', delay: config.backoff_ms },
    removeOnComplete: { age: config.result_ttl_s },
    removeOnFail: { age: config.result_ttl_s },
  });
  return { jobId: record.id, created: true };
}

/**
 * The request path's cancel: a queued job is removed and leaves a tombstone; a running one is
 * flagged and announced on the cancel channel, and the worker running it aborts its handler.
 */
export async function cancelJob(store: RedisJobStore, deps: Pick<JobQueueDeps, 'metrics'>, tenant: string, id: string): Promise<JobView> {
  const found = await store.find(tenant, id);
  if (isFinished(found.view.status) || !found.job) return found.view;
  const job = found.job;
  await store.redis.set(store.keys.cancel(id), '1', 'PX', store.ttlMs);
  const removed =
    QUEUED_STATES.has(await job.getState()) &&
    (await job.remove().then(
      () => true,
      () => false,
    ));
  if (!removed) {
    // Running somewhere: tell every worker; the one running it aborts the handler.
    await store.redis.publish(store.keys.cancelChannel, id);
    return (await store.find(tenant, id)).view;
  }
  const view = jobView(job.data, {
    status: 'cancelled',
    attempts: job.attemptsStarted,
    error: toJobError(cancelledError(), store.redact),
    finishedAt: Date.now(),
  });
  await store.redis.set(store.keys.tomb(id), JSON.stringify({ tenant, view } satisfies Tombstone), 'PX', store.ttlMs);
  deps.metrics.jobs.inc({ kind: job.data.kind, outcome: 'cancelled' });
  await store.scheduleCallback(job.data);
  return view;
}
