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

  test('kill -9 of a worker under a stream of jobs: every job succeeds once, every callback is sent once (repeated, with its delivery id, only if the killed worker was sending it)', async () => {
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
    let repeated = 0;
    for (const [i, id] of ids.entries()) {
      // The contract (docs/API.md): one delivery, repeated only when its sender died between the
      // receiver's 2xx and recording it (a window kill -9 cannot close from the sender's side),
      // then with the same delivery id and a higher attempt, which the receiver drops.
      const deliveries = deliveriesOf(id);
      assert.ok(deliveries.length === 1 || deliveries.length === 2, `${deliveries.length} callbacks for ${id}`);
      for (const d of deliveries) assert.equal(d.headers['x-pronto-delivery-id'], `${id}.succeeded`);
      const attempts = deliveries.map((d) => Number(d.headers['x-pronto-delivery-attempt']));
      assert.deepEqual(attempts, [...new Set(attempts)].sort((a, b) => a - b), `a repeat has a higher attempt: ${attempts.join(', ')}`);
      if (deliveries.length === 2) repeated++;
      // Run to the end once, by a worker still alive (or by the victim before it was killed).
      const done = linesOf(id).filter((l) => l.startsWith('done'));
      const result = views[i].result as { pid: number };
      assert.ok(done.includes(`done ${id} ${result.pid}`), linesOf(id).join('\n'));
      assert.equal(done.filter((l) => !l.endsWith(` ${victim.pid}`)).length, result.pid === victim.pid ? 0 : 1, linesOf(id).join('\n'));
    }
    assert.ok(repeated <= 1, `${repeated} callbacks repeated: only the one the killed worker was sending may be`);
  });
});
