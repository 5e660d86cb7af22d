import { once } from 'node:events';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createJobHandlers } from '../jobs/handlers.js';
import { createRedisJobQueue } from '../jobs/redis-queue.js';
import type { JobQueueDeps } from '../jobs/deps.js';
import { createLogger } from '../observability/logger.js';
import { UsageError } from './command.js';

/** What a worker runs jobs with. The default is the full runtime; tests pass small fakes. */
export interface WorkerServices {
  start(config: Config, logger: Logger): Promise<Required<Omit<JobQueueDeps, 'logger'>> & { close(): Promise<void> }>;
  /** Called once the worker takes jobs (tests wait for it). */
  onReady?(): void;
}

const runtimeServices: WorkerServices = {
  async start(config, logger) {
    const { createRuntime } = await import('../runtime.js');
    const { startOtelSdk } = await import('../observability/otel-sdk.js');
    const stopTracing = startOtelSdk(config.observability);
    const runtime = createRuntime(config, { logger });
    await runtime.start();
    return {
      handlers: createJobHandlers(runtime.pipeline, config),
      metrics: runtime.metrics,
      redact: runtime.redactor.redact,
      close: () => runtime.close().then(stopTracing),
    };
  },
};

/**
 * `pronto worker [--config FILE]`: consumes the Redis job queue until SIGTERM/SIGINT, then
 * finishes the jobs it holds (within server.shutdown_grace_ms) and exits. Run as many as you like.
 */
export async function runWorker(options: { config?: string }, services: WorkerServices = runtimeServices): Promise<void> {
  // The API process seeds the sample corpus; workers sharing its data dir must not race it.
  // Role `api` keeps a runtime from starting a job worker of its own: this command runs it.
  const config = loadConfig({ file: options.config, overrides: { sample_corpus: { enabled: false }, server: { role: 'api' } } });
  if (!config.redis_url) throw new UsageError('pronto worker needs a Redis queue: set REDIS_URL (or redis_url in the config file)');
  const logger = createLogger(config.observability.log_level, { role: 'worker' });
  const deps = await services.start(config, logger);
  const queue = createRedisJobQueue(config, { ...deps, logger });
  await queue.startWorker();
  logger.info({ concurrency: config.jobs.concurrency, prefix: config.jobs.prefix }, 'job worker ready');
  services.onReady?.();

  const stop = new AbortController();
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const signal = await Promise.race(signals.map((name) => once(process, name, { signal: stop.signal }).then(() => name)));
  stop.abort();
  logger.info({ signal }, 'job worker stopping: finishing running jobs');
  await queue.close();
  await deps.close();
}
