import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { JobView } from '../../src/jobs/types.js';
import { waitForStatus } from './support/contract.js';
import { redisUnavailable, waitFor } from './support/queues.js';
import { startWorkerProcesses, type WorkerProcesses } from './support/worker-processes.js';

const skip = await redisUnavailable();

// Two real `pronto worker` processes and an API-side queue in this process.
describe('worker processes', { skip }, () => {
  let cluster: WorkerProcesses;
  before(async () => {
    cluster = await startWorkerProcesses(2);
  });
  after(() => cluster?.close());

  test('DELETE reaches the process running the job: its handler stops, the job ends cancelled', async () => {
    const { api, receiver, linesOf, deliveriesOf } = cluster;
    const { jobId } = await api.submit({ tenant: 't', kind: 'chat', input: {}, callbackUrl: receiver.url });
    await cluster.startedBy(jobId);
    assert.equal((await api.cancel('t', jobId)).status, 'cancelled');
    const view = await waitForStatus(api, 't', jobId);
    assert.equal(view.status, 'cancelled');
    assert.equal(view.error?.code, 'cancelled');
    await waitFor(() => (deliveriesOf(jobId).length > 0 ? true : undefined), 10_000, 'the callback');
    assert.equal((JSON.parse(deliveriesOf(jobId)[0].body) as JobView).status, 'cancelled');
    const pid = linesOf(jobId)[0].split(' ')[2];
    await waitFor(() => (linesOf(jobId).length === 2 ? true : undefined), 5000, 'the handler to stop');
    assert.deepEqual(linesOf(jobId), [`start ${jobId} ${pid}`, `aborted ${jobId} ${pid} cancelled`]);
  });

  test('a worker killed with SIGKILL mid-job: another worker finishes it, exactly once', async () => {
    const { api, receiver, linesOf, deliveriesOf } = cluster;
    const { jobId } = await api.submit({ tenant: 't', kind: 'ingest', input: { documents: [] }, callbackUrl: receiver.url });
    const first = await cluster.startedBy(jobId);
    const second = cluster.workers.find((w) => w !== first)!;
    assert.equal((await api.get('t', jobId)).status, 'running');
    first.kill('SIGKILL');
    await once(first, 'exit');

    const view = await cluster.finished(jobId);
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(view.result, { pid: second.pid });
    assert.equal(view.attempts, 2);

    await waitFor(() => (deliveriesOf(jobId).length > 0 ? true : undefined), 10_000, 'the callback');
    // Give a duplicate every chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(linesOf(jobId), [`start ${jobId} ${first.pid}`, `start ${jobId} ${second.pid}`, `done ${jobId} ${second.pid}`]);
    assert.equal(deliveriesOf(jobId).length, 1);
    const delivered = JSON.parse(deliveriesOf(jobId)[0].body) as JobView;
    assert.equal(delivered.status, 'succeeded');
    assert.deepEqual(delivered.result, { pid: second.pid });
    assert.equal(deliveriesOf(jobId)[0].headers['x-pronto-delivery-id'], `${jobId}.succeeded`);
  });
});
