import type { Logger } from 'pino';
import type { JobsConfig } from '../config/jobs.js';
import type { RedactionOptions } from '../core/redact.js';
import type { Metrics } from '../observability/metrics.js';
import type { JobHandlers } from './types.js';

/** The settings a job queue reads: its own slice, and the few process-wide ones it depends on. */
export interface JobQueueConfig {
  jobs: JobsConfig;
  /** BullMQ on this Redis when set; the in-process queue otherwise. */
  redis_url?: string;
  /** Redaction of inputs, results and errors when `deps.redact` is not given. */
  pii: RedactionOptions;
  /** How long running jobs may finish when the queue closes. */
  server: { shutdown_grace_ms: number };
}

export interface JobQueueDeps {
  metrics: Metrics;
  logger: Logger;
  /** Needed only where jobs run (startWorker); an API-only process can leave it out. */
  handlers?: JobHandlers;
  /** PII redaction applied to inputs, results and errors before they are stored (default: config.pii). */
  redact?: (text: string) => string;
}

export function requireHandlers(deps: JobQueueDeps): JobHandlers {
  if (!deps.handlers) throw new Error('startWorker needs job handlers (createJobHandlers(pipeline))');
  return deps.handlers;
}
