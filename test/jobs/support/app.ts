import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { DeepPartial } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { createMemoryJobQueue } from '../../../src/jobs/memory-queue.js';
import type { JobQueue } from '../../../src/jobs/types.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { createRedactor } from '../../../src/core/redact.js';
import { loadKeyRecords } from '../../../src/config/keys.js';
import { createAuthenticator } from '../../../src/server/front/auth.js';
import { AJV_OPTIONS } from '../../../src/server/front/validation.js';
import { registerAuth } from '../../../src/server/plugins/auth.js';
import { registerErrorHandler } from '../../../src/server/plugins/errors.js';
import { registerJsonBodyParser } from '../../../src/server/plugins/json-body.js';
import { registerJobRoutes } from '../../../src/server/routes/jobs.js';
import { scriptedHandlers } from './handlers.js';
import { testConfig } from './queues.js';

export const KEYS = { acme: 'acme-key-123456', globex: 'globex-key-123456' };

/**
 * The job routes on a Fastify instance with the app's own body parser, auth, error handler and
 * ajv options: the routes as the real app serves them, without loading models (the benchmark
 * uses it too).
 */
export async function buildJobsApp(config: Config, jobs: JobQueue): Promise<FastifyInstance> {
  const app = Fastify({ ajv: { customOptions: { ...AJV_OPTIONS } } });
  registerJsonBodyParser(app);
  registerErrorHandler(app, createRedactor(config.pii));
  registerAuth(app, createAuthenticator(() => loadKeyRecords(config.auth)));
  registerJobRoutes(app, { jobs, config });
  await app.ready();
  return app;
}

/** The job routes with two tenants over the in-process queue and scripted handlers. */
export async function startJobsApp(overrides: DeepPartial<Config['jobs']> = {}) {
  const config = testConfig('memory', overrides);
  config.auth.api_keys = Object.entries(KEYS).map(([tenant, key]) => ({ tenant, key }));
  const script = scriptedHandlers();
  const jobs = createMemoryJobQueue(config, {
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
    handlers: script.handlers,
  });
  await jobs.startWorker();
  const app = await buildJobsApp(config, jobs);
  const call = async (method: string, url: string, tenant: keyof typeof KEYS, body?: unknown) => {
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${KEYS[tenant]}` },
      payload: body as object,
    });
    return { status: res.statusCode, headers: res.headers, body: res.json() };
  };
  return {
    app,
    script,
    call,
    async close() {
      await app.close();
      await jobs.close();
    },
  };
}
