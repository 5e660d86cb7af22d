import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { redisUnavailable, waitFor } from './support/queues.js';
import { startWorkerProcesses, type WorkerProcesses } from './support/worker-processes.js';

const skip = await redisUnavailable();

// Three workers, started together: one is stopped, then one killed, the last finishes the jobs.
describe('workers stopping and dying under a stream of jobs', { skip }, () => {
  let cluster: WorkerProcesses;
  before(async () => {
    cluster = await startWorkerProcesses(3);
  });
  after(() => cluster?.close());

  test('SIGTERM past the grace period hands the running job back: another worker runs it at once', async () => {
    const { api, receiver, linesOf, deliveriesOf } = cluster;
    // The job outlasts the stopping worker's 1 s grace period.
    const { jobId } = await api.submit({ tenant: 't', kind: 'chat', input: { ms: 3500 }, callbackUrl: receiver.url });
    const first = await cluster.startedBy(jobId);
    first.kill('SIGTERM');
    const [code] = await once(first, 'exit');
    assert.equal(code, 0, 'the worker exits cleanly on SIGTERM');
    const view = await cluster.finished(jobId);
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    const lines = linesOf(jobId);
    assert.deepEqual(lines.slice(0, 2), [`start ${jobId} ${first.pid}`, `aborted ${jobId} ${first.pid} shutting_down`]);
    assert.equal(lines.filter((l) => l.startsWith('done')).length, 1);
    await waitFor(() => (deliveriesOf(jobId).length > 0 ? true : undefined), 10_000, 'the callback');
    assert.equal(deliveriesOf(jobId).length, 1);
  });

  test('kill -9 of a worker under a stream of jobs: every job succeeds once, every callback is sent once', async () => {
    const { api, receiver, linesOf, deliveriesOf } = cluster;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push((await api.submit({ tenant: 't', kind: 'embed', input: { ms: 300 }, callbackUrl: receiver.url })).jobId);
    }
    const victim = await cluster.startedBy(ids[2]);
    victim.kill('SIGKILL');
    await once(victim, 'exit');
    const views = await Promise.all(ids.map((id) => cluster.finished(id, 40_000)));
    assert.deepEqual(
      views.map((v) => v.status),
      ids.map(() => 'succeeded'),
    );
    await waitFor(() => (ids.every((id) => deliveriesOf(id).length > 0) ? true : undefined), 20_000, 'every callback');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const [i, id] of ids.entries()) {
      assert.equal(deliveriesOf(id).length, 1, `one callback for ${id}`);
      assert.equal(deliveriesOf(id)[0].headers['x-pronto-delivery-id'], `${id}.succeeded`);
      // Run to the end once, by a worker still alive (or by the victim before it was killed).
      const done = linesOf(id).filter((l) => l.startsWith('done'));
      const result = views[i].result as { pid: number };
      assert.ok(done.includes(`done ${id} ${result.pid}`), linesOf(id).join('\n'));
      assert.equal(done.filter((l) => !l.endsWith(` ${victim.pid}`)).length, result.pid === victim.pid ? 0 : 1, linesOf(id).join('\n'));
    }
  });
});
