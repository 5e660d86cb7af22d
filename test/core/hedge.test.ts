import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hedger } from '../../src/core/hedge.js';

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

test('no hedging until enough latencies are known; then a slow call is hedged and the fast answer wins', async () => {
  const hedger = new Hedger({ budget: 1, minDelayMs: 1, minSamples: 5 });
  const signal = new AbortController().signal;
  for (let i = 0; i < 5; i++) await hedger.run(async () => 'fast', signal);
  assert.equal(hedger.count, 0);
  let calls = 0;
  const aborted: boolean[] = [];
  const result = await hedger.run(async (s) => {
    const n = ++calls;
    s.addEventListener('abort', () => aborted.push(true));
    if (n === 1) {
      await wait(10_000, s).catch(() => undefined);
      return 'slow';
    }
    return 'hedge';
  }, signal);
  assert.equal(result, 'hedge');
  assert.equal(hedger.count, 1);
  assert.ok(aborted.length >= 1, 'the losing call is aborted');
});

test('the budget caps hedges: at 5% only about one in twenty slow calls is hedged', async () => {
  const hedger = new Hedger({ budget: 0.05, minDelayMs: 0, minSamples: 1 });
  const signal = new AbortController().signal;
  await hedger.run(async () => 'seed', signal);
  for (let i = 0; i < 40; i++) {
    await hedger.run((s) => wait(2, s).then(() => 'slow'), signal);
  }
  assert.ok(hedger.count <= 3, `hedged ${hedger.count} of 40`);
});

test('when the hedged calls both fail, the first error is thrown', async () => {
  const hedger = new Hedger({ budget: 1, minDelayMs: 0, minSamples: 0 });
  await assert.rejects(
    hedger.run(async () => {
      throw new Error('boom');
    }, new AbortController().signal),
    /boom/,
  );
});
