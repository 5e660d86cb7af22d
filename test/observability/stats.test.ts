import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../src/observability/metrics.js';
import { createStatsRecorder } from '../../src/observability/stats.js';

test("the one-minute window slides: it sums exactly the last windowSeconds points as they come and go", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const stats = createStatsRecorder(metrics.registry, { seconds: 10, windowSeconds: 3, intervalMs: 3_600_000 });
  const labels = { method: 'POST', route: '/v1/search', status: '200' };
  try {
    await stats.tick(); // the baseline reading
    const sent = [1, 2, 3, 4, 5, 6, 0, 0, 0];
    for (const [second, n] of sent.entries()) {
      for (let i = 0; i < n; i++) {
        metrics.requests.inc(labels);
        // 0.1 s is not a bucket bound: a float sum added and taken away leaves rounding behind.
        metrics.requestDuration.observe(labels, 0.1 + second * 0.003);
      }
      if (second === 4) metrics.requests.inc({ ...labels, status: '503' }, 2);
      await stats.tick();
      const last3 = sent.slice(Math.max(0, second - 2), second + 1);
      const seconds = Math.min(second + 1, 3);
      assert.equal(stats.window().seconds, seconds, `second ${second}: the window sums ${seconds} s`);
      const route = stats.window().routes['/v1/search'];
      const expected = last3.reduce((a, b) => a + b, 0) + (second >= 4 && second <= 6 ? 2 : 0);
      if (expected === 0) {
        assert.equal(route, undefined, `second ${second}: nothing in the window`);
        continue;
      }
      assert.equal(route.rps, Math.round((expected / seconds) * 100) / 100, `second ${second}: requests/s over the window`);
      assert.equal(route.errors, second >= 4 && second <= 6 ? 2 : 0, `second ${second}: 5xx in the window`);
      assert.equal(route.count, last3.reduce((a, b) => a + b, 0), `second ${second}: latency observations in the window`);
    }
    assert.deepEqual(stats.window().routes, {}, 'the window empties once traffic stops');
    assert.equal(stats.points().length, 9);
    assert.deepEqual(
      stats.points().map((p) => p.routes['/v1/search']?.rps ?? 0),
      [1, 2, 3, 4, 7, 6, 0, 0, 0],
      'each point is its own second',
    );
  } finally {
    stats.stop();
  }
});

test('a reading gives the event loop a turn before each metric it reads, and before each step after', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const stats = createStatsRecorder(metrics.registry, { intervalMs: 3_600_000 });
  const own = metrics.registry.getMetricsAsArray().filter((m) => m.name.startsWith('pronto_')).length;
  // A callback queued behind I/O, queued again at each turn it gets: how many turns the reading gave.
  const turnsDuring = async (reading: () => Promise<void>) => {
    let turns = 0;
    let running = true;
    const turn = () => {
      turns++;
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    await reading();
    running = false;
    return turns;
  };
  try {
    const first = await turnsDuring(() => stats.tick());
    assert.ok(first >= own, `the first reading (${own} metrics) gave ${first} turns`);
    metrics.requests.inc({ method: 'POST', route: '/v1/search', status: '200' });
    const next = await turnsDuring(() => stats.tick());
    assert.ok(next >= own + 3, `a reading with a difference gave ${next} turns (metrics, then difference, point, window)`);
    assert.equal(stats.points().at(-1)?.routes['/v1/search']?.rps, 1);
  } finally {
    stats.stop();
  }
});
