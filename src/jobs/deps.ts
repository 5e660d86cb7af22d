import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { JobHandlers } from './types.js';

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
