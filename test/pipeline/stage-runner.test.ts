import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { sleep } from '../../src/core/deadline.js';
import { ProntoError } from '../../src/core/errors.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createRequestContext } from '../../src/pipeline/context.js';
import { createStageRunner } from '../../src/pipeline/stage-runner.js';

const logger = pino({ level: 'silent' });

function setup(overrides = {}) {
  const config = loadConfig({ env: {}, overrides: { deadline: { budgets: { rerank: 20 } }, ...overrides } });
  const metrics = createMetrics({ defaultMetrics: false });
  const runner = createStageRunner(config, metrics, trace.getTracer('test'), 'test');
  const ctx = createRequestContext({ logger, tenant: 't', deadlineMs: 5000 });
  return { runner, ctx, metrics };
}

async function degradations(metrics: ReturnType<typeof createMetrics>) {
  return (await metrics.degradations.get()).values.map((v) => ({ ...v.labels, value: v.value }));
}

test('a stage that succeeds records its timing and is not degraded', async () => {
  const { runner, ctx } = setup();
  assert.equal(await runner.run(ctx, 'rerank', async () => 'ranked', { name: 'fused_order', run: () => 'fused' }), 'ranked');
  assert.ok(ctx.timings.rerank >= 0);
  assert.deepEqual(ctx.degraded, []);
});

test('a stage that throws runs its fallback, flags it and counts it', async () => {
  const { runner, ctx, metrics } = setup();
  const result = await runner.run(ctx, 'rerank', async () => Promise.reject(new Error('boom')), { name: 'fused_order', run: () => 'fused' });
  assert.equal(result, 'fused');
  assert.deepEqual(ctx.degraded, [{ stage: 'rerank', reason: 'error', fallback: 'fused_order' }]);
  assert.deepEqual(await degradations(metrics), [{ stage: 'rerank', reason: 'error', variant: 'default', value: 1 }]);
});

test('a stage that overruns its budget is abandoned for its fallback, and its signal aborts', async () => {
  const { runner, ctx } = setup();
  let seen: AbortSignal | undefined;
  const result = await runner.run(
    ctx,
    'rerank',
    async (signal) => {
      seen = signal;
      await new Promise(() => undefined); // a stage that never answers on its own
      return 'never';
    },
    { name: 'fused_order', run: () => 'fused' },
  );
  assert.equal(result, 'fused');
  assert.equal(seen?.aborted, true, 'the stage was told to stop');
  assert.equal(ctx.degraded[0].reason, 'timeout');
});

test('without a fallback the error propagates', async () => {
  const { runner, ctx } = setup();
  await assert.rejects(runner.run(ctx, 'sanitize', async () => Promise.reject(new ProntoError('upstream_failed'))), { code: 'upstream_failed' });
});

test('when the whole request is aborted no fallback runs', async () => {
  const { runner, ctx } = setup();
  const running = runner.run(ctx, 'rerank', (signal) => sleep(10_000, signal).then(() => 'late'), { name: 'fused_order', run: () => 'fused' });
  ctx.deadline.cancel();
  await assert.rejects(running, { code: 'cancelled' });
  assert.deepEqual(ctx.degraded, []);
});

test('the faults hook makes a stage throw or stall', async () => {
  const { runner, ctx } = setup({ faults: { rerank: { mode: 'delay', delay_ms: 1000 }, embed: { mode: 'throw' } } });
  assert.equal(await runner.run(ctx, 'rerank', async () => 'fast', { name: 'slow', run: () => 'slow' }), 'slow');
  assert.equal(await runner.run(ctx, 'embed', async () => 'fine', { name: 'sparse', run: () => 'sparse' }), 'sparse');
  assert.deepEqual(ctx.degraded.map((d) => d.reason), ['timeout', 'error']);
});

test('a request with its own stage budgets (a job) lets a stage use the whole deadline', async () => {
  const { runner } = setup();
  const ctx = createRequestContext({ logger, tenant: 't', deadlineMs: 5000, stageBudgets: {} });
  // Three times the interactive rerank budget (20 ms): an interactive request would fall back.
  const result = await runner.run(ctx, 'rerank', async (signal) => (await sleep(60, signal), 'ranked'), { name: 'fused_order', run: () => 'fused' });
  assert.equal(result, 'ranked');
  assert.deepEqual(ctx.degraded, []);
});
