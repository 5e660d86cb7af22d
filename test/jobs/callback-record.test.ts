import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { sleep } from '../../src/core/deadline.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import type { JobQueue } from '../../src/jobs/types.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { startOwnRedis } from '../support/redis-server.js';
import { scriptedHandlers } from './support/handlers.js';
import { waitFor } from './support/queues.js';

const redis = await startOwnRedis();

/**
 * The window between a receiver's 2xx and the delivery's record in Redis, with a real Redis (the
 * test's own, killed and restarted) and a real receiver. Short locks, so a Redis outage of a
 * second costs the delivery its BullMQ lock and the stalled check hands it to a rerun.
 */
describe('a callback across a Redis restart between the send and its record', { skip: redis ? false : 'redis-server is not installed', timeout: 60_000 }, () => {
  const prefix = `test-cb-${randomUUID().slice(0, 8)}`;
  const logLines: string[] = [];
  let queue: JobQueue;
  let inspect: Redis;
  let receiver: Awaited<ReturnType<typeof startHookReceiver>>;

  before(async () => {
    receiver = await startHookReceiver();
    const config = loadConfig({
      env: {},
      overrides: {
        redis_url: redis!.url,
        jobs: {
          prefix,
          lock_ms: 500,
          stalled_interval_ms: 200,
          callbacks: { allow_private: true, backoff_ms: 20, timeout_ms: 10_000, record_retry_ms: 5000 },
        },
      },
    });
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
    queue = createJobQueue(config, { metrics: createMetrics({ defaultMetrics: false }), logger, handlers: scriptedHandlers().handlers });
    await queue.startWorker();
    inspect = new Redis(redis!.url);
    inspect.on('error', () => undefined);
  });

  after(async () => {
    await queue?.close();
    inspect?.disconnect();
    await receiver?.close();
    await redis?.close();
  });

  /** Submits a job with a callback and waits until its delivery is recorded and the stalled check had time to rerun it. */
  async function deliverOne(): Promise<string> {
    const { jobId } = await queue.submit({ tenant: 't', kind: 'infer', input: { behave: 'echo' }, callbackUrl: receiver.url });
    await waitFor(async () => ((await inspect.get(`${prefix}:pronto:delivered:${jobId}.succeeded`).catch(() => null)) ?? undefined), 30_000, 'the record');
    await sleep(2000);
    return jobId;
  }

  test('the receiver answers after a Redis restart cost the send its lock: the rerun waits for that send\'s record, one callback', async () => {
    receiver.onFirst = async () => {
      await redis!.kill();
      await sleep(1000);
      await redis!.start();
      // Long enough for the stalled check (2 x 200 ms once Redis is back) to rerun the delivery.
      await sleep(3000);
    };
    const jobId = await deliverOne();
    const sent = receiver.deliveriesOf(jobId);
    assert.deepEqual(sent.map((d) => d['x-pronto-delivery-attempt']), ['1'], 'sent once');
    // The rerun found the record; the first send could not complete the delivery without its lock.
    // Waited for, not read once: under load the worker's reconnect after the restart can start the
    // rerun seconds after the record (CI failed once reading it 2 s after).
    const rerun = await waitFor(async () => (await inspect.hget(`${prefix}:callbacks:cb-${jobId}`, 'returnvalue')) ?? undefined, 20_000, 'the delivery to complete');
    assert.equal(rerun, JSON.stringify('delivered before'));
  });

  test('Redis goes down between the receiver\'s 2xx and the record: the record is retried until Redis is back, one callback', async () => {
    receiver.onFirst = async () => {
      await redis!.kill();
      // Answered while Redis is down; it comes back only after the delivery's lock has run out.
      setTimeout(() => void redis!.start(), 1500);
    };
    const jobId = await deliverOne();
    assert.deepEqual(receiver.deliveriesOf(jobId).map((d) => d['x-pronto-delivery-attempt']), ['1'], 'sent once');
    const retried = logLines.map((line) => JSON.parse(line) as { msg: string; tries?: number; delivery_id?: string }).find((l) => l.delivery_id === `${jobId}.succeeded`);
    assert.equal(retried?.msg, 'recorded a callback delivery after Redis came back');
    assert.ok(retried.tries! > 1, `${retried.tries} tries`);
  });
});

/** A callback receiver whose first delivery of each job runs `onFirst` before it answers 200. */
async function startHookReceiver() {
  const deliveries: IncomingHttpHeaders[] = [];
  const state = {
    onFirst: async () => undefined as unknown,
    url: '',
    deliveriesOf: (jobId: string) => deliveries.filter((headers) => headers['x-pronto-job-id'] === jobId),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const first = state.deliveriesOf(String(req.headers['x-pronto-job-id'])).length === 0;
      deliveries.push(req.headers);
      void (first ? state.onFirst() : Promise.resolve()).then(() => res.writeHead(200).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return state;
}
