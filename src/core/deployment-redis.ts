import type { Redis } from 'ioredis';

/**
 * The deployment's Redis and its key prefix (`jobs.prefix`): the replicas of one deployment share
 * the keys under it (change feed, write lease, feedback, request ledger), and two deployments on
 * one Redis keep theirs apart.
 */
export interface DeploymentRedis {
  redis: Redis;
  prefix: string;
}
