import { createRedactor } from '../core/redact.js';
import type { JobQueueConfig, JobQueueDeps } from './deps.js';
import { cancelJob, submitJob } from './redis/requests.js';
import { RedisJobStore } from './redis/store.js';
import { startRedisWorkers } from './redis/worker.js';
import type { JobQueue } from './types.js';

/**
 * Jobs on BullMQ. BullMQ owns the hard parts: atomic add-if-absent by job id (idempotency),
 * priorities, retries with exponential backoff, locks and stalled-job recovery (a worker killed
 * mid-job loses its lock and another worker reruns the job; only the lock holder can complete
 * it, so it completes once). Around it (./redis/): a cancel flag plus a pub/sub channel to stop a
 * job running on another process, a tombstone for jobs cancelled before they started (BullMQ has
 * no "cancelled" state), and callbacks as jobs of their own so deliveries survive restarts.
 */
export function createRedisJobQueue(config: JobQueueConfig, deps: JobQueueDeps): JobQueue {
  if (!config.redis_url) throw new Error('createRedisJobQueue needs redis_url');
  const store = new RedisJobStore(config.redis_url, config.jobs, deps, deps.redact ?? createRedactor(config.pii).redact);
  const stops: Array<() => Promise<void>> = [];
  return {
    backend: 'redis',
    submit: (request) => store.guarded(() => submitJob(store, deps, request)),
    get: (tenant, id) => store.guarded(async () => (await store.find(tenant, id)).view),
    cancel: (tenant, id) => store.guarded(() => cancelJob(store, deps, tenant, id)),
    async startWorker() {
      stops.push(await startRedisWorkers(store, deps, config.server.shutdown_grace_ms));
    },
    async close() {
      for (const stop of stops.splice(0)) await stop();
      await store.close();
    },
  };
}
