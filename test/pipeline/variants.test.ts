import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { VariantConfig } from '../../src/config/variants.js';
import { ProntoError } from '../../src/core/errors.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { assignVariant } from '../../src/pipeline/variants/assign.js';
import { CanaryWindow } from '../../src/pipeline/variants/canary-window.js';
import { createVariantRouter } from '../../src/pipeline/variants/router.js';

const LIMITS = { max_error_ratio: 0.1, max_p95_ms: 500, window_s: 10, min_requests: 10 };
const T0 = 1_700_000_000_000;

describe('variant assignment', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

  test('follows the weights, and is the same for the same key', () => {
    const variants = [
      { name: 'a', weight: 9 },
      { name: 'b', weight: 1 },
    ];
    const share = keys.filter((k) => assignVariant(k, variants) === 'b').length / keys.length;
    assert.ok(share > 0.08 && share < 0.12, `b got ${share}`);
    assert.equal(assignVariant('user-7', variants), assignVariant('user-7', variants));
    assert.equal(assignVariant('anyone', [{ name: 'a', weight: 0 }]), undefined);
  });

  test('taking a variant out moves only its own callers', () => {
    const all = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ];
    const withoutC = all.slice(0, 2);
    const moved = keys.filter((k) => {
      const before = assignVariant(k, all);
      return before !== 'c' && assignVariant(k, withoutC) !== before;
    });
    assert.deepEqual(moved, []);
  });
});

describe('the canary window', () => {
  test('passes the error ratio only once it holds min_requests', () => {
    const window = new CanaryWindow(LIMITS);
    for (let i = 0; i < 9; i++) window.record(i < 2, 0.01, T0);
    assert.equal(window.verdict(T0), undefined, '9 requests: no verdict yet');
    window.record(false, 0.01, T0);
    assert.deepEqual(window.verdict(T0), { reason: 'error_ratio', value: 0.2, limit: 0.1, requests: 10 });
  });

  test('passes p95 when the slow tail is over the limit', () => {
    const window = new CanaryWindow(LIMITS);
    for (let i = 0; i < 18; i++) window.record(false, 0.02, T0);
    for (let i = 0; i < 2; i++) window.record(false, 2, T0);
    const verdict = window.verdict(T0);
    assert.equal(verdict?.reason, 'p95');
    assert.ok(verdict.value > 500, String(verdict.value));
  });

  test('slides: failures older than the window no longer count', () => {
    const window = new CanaryWindow(LIMITS);
    for (let i = 0; i < 10; i++) window.record(true, 0.01, T0);
    assert.equal(window.verdict(T0 + 9_999)?.reason, 'error_ratio', 'still inside the 10 s window');
    assert.equal(window.verdict(T0 + 10_000), undefined, 'their second left the window');
    for (let i = 0; i < 10; i++) window.record(false, 0.01, T0 + 10_500);
    assert.equal(window.verdict(T0 + 10_500), undefined);
  });
});

describe('the variant router', () => {
  const variants: VariantConfig[] = [
    { name: 'control', weight: 1 },
    { name: 'canary', weight: 1000, canary: { ...LIMITS, min_requests: 2 } },
  ];
  const make = () => {
    const metrics = createMetrics({ defaultMetrics: false });
    return { metrics, router: createVariantRouter(variants, { metrics, logger: pino({ level: 'silent' }) }) };
  };
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof ProntoError ? { code: err.code, status: err.status, field: err.field } : err;
    }
    return undefined;
  };

  test('a forced variant needs the permission and an existing name', () => {
    const { router } = make();
    assert.equal(router.choose({ stickyKey: 'k', forced: 'control', mayForce: true }), 'control');
    assert.deepEqual(refusal(() => router.choose({ stickyKey: 'k', forced: 'control', mayForce: false })), {
      code: 'forbidden_variant_override',
      status: 403,
      field: 'x-pronto-variant',
    });
    assert.deepEqual(refusal(() => router.choose({ stickyKey: 'k', forced: 'other', mayForce: true })), { code: 'invalid_input', status: 400, field: 'x-pronto-variant' });
  });

  test('a failing canary leaves the rotation, is counted, and a reload puts it back', async () => {
    const { router, metrics } = make();
    assert.equal(router.choose({ stickyKey: 'k', mayForce: false }), 'canary', 'weight 1000 to 1');
    router.record('canary', 502, 0.01);
    router.record('canary', 502, 0.01);
    assert.equal(router.inRotation('canary'), false);
    assert.equal(router.choose({ stickyKey: 'k', mayForce: false }), 'control');
    assert.equal(router.choose({ stickyKey: 'k', forced: 'canary', mayForce: true }), 'canary', 'still reachable by forcing');
    const rollbacks = (await metrics.variantRollbacks.get()).values;
    assert.deepEqual(rollbacks.map((v) => [v.labels, v.value]), [[{ variant: 'canary', reason: 'error_ratio' }, 1]]);
    router.record('canary', 502, 0.01);
    assert.equal((await metrics.variantRollbacks.get()).values[0].value, 1, 'counted once');

    router.reload(variants);
    assert.equal(router.inRotation('canary'), true);
    assert.equal(router.choose({ stickyKey: 'k', mayForce: false }), 'canary');
    assert.deepEqual((await metrics.variantInRotation.get()).values.map((v) => [v.labels.variant, v.value]), [['control', 1], ['canary', 1]]);
  });
});
