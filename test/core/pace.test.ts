import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPacer } from '../../src/core/pace.js';

/** Busy CPU work for `ms` milliseconds (a unit of a long loop). */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('a paced loop lets the event loop run between slices', async () => {
  const pace = createPacer(undefined, 2);
  let ran = 0;
  const tick = () => {
    ran++;
    timer = setImmediate(tick);
  };
  let timer = setImmediate(tick);
  for (let i = 0; i < 20; i++) {
    spin(1);
    await pace();
  }
  clearImmediate(timer);
  assert.ok(ran >= 5, `other callbacks ran ${ran} times during 20 ms of paced work`);
});

test('a paced loop stops with the signal’s reason once it aborts', async () => {
  const controller = new AbortController();
  const pace = createPacer(controller.signal, 0);
  const reason = new Error('deadline');
  setImmediate(() => controller.abort(reason));
  await assert.rejects(async () => {
    for (;;) {
      spin(1);
      await pace();
    }
  }, reason);
});
