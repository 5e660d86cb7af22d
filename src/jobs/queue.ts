import type { JobQueueConfig, JobQueueDeps } from './deps.js';
import { createMemoryJobQueue } from './memory-queue.js';
import { createRedisJobQueue } from './redis-queue.js';
import type { JobQueue } from './types.js';

export type { JobQueueConfig, JobQueueDeps } from './deps.js';

/** BullMQ on Redis when `redis_url` is set; otherwise the in-process queue. Same contract. */
export function createJobQueue(config: JobQueueConfig, deps: JobQueueDeps): JobQueue {
  return config.redis_url ? createRedisJobQueue(config, deps) : createMemoryJobQueue(config, deps);
}
