import { DEFAULT_VARIANT, type VariantConfig } from '../../config/variants.js';
import { ProntoError } from '../../core/errors.js';
import type { Metrics } from '../../observability/metrics.js';
import type { ContextLogger } from '../types.js';
import { assignVariant } from './assign.js';
import { CanaryWindow } from './canary-window.js';

export const VARIANT_HEADER = 'x-pronto-variant';

/** What decides a request's variant. */
export interface VariantRequest {
  /** Who the request is for (user id, else key, else address): the same key gets the same variant. */
  stickyKey: string;
  /** The variant the request asks for by header, if any. */
  forced?: string;
  /** Whether the caller may force one (its key's permission). */
  mayForce: boolean;
}

export interface VariantRouter {
  /** The variants configured now (empty: every request is `default`). */
  readonly variants: readonly VariantConfig[];
  /** The request's variant: the forced one when allowed, else its sticky share among those in rotation. */
  choose(request: VariantRequest): string;
  /** A finished request of a variant; a canary passing a limit is taken out of rotation here. */
  record(variant: string, status: number, seconds: number): void;
  /** Whether the variant takes its share of traffic now. */
  inRotation(name: string): boolean;
  /** New variants (a config reload): every canary is back in rotation with an empty window. */
  reload(variants: readonly VariantConfig[]): void;
}

/**
 * Routes requests among the configured pipeline variants and watches the canaries. A canary whose
 * 5xx ratio or p95 over its sliding window passes its limit leaves the rotation (its callers go to
 * the other variants; a caller allowed to force it still can), logged and counted, until a reload.
 */
export function createVariantRouter(initial: readonly VariantConfig[], deps: { metrics: Metrics; logger: ContextLogger }): VariantRouter {
  let variants: readonly VariantConfig[] = [];
  let byName = new Map<string, VariantConfig>();
  let windows = new Map<string, CanaryWindow>();
  const rolledBack = new Set<string>();
  let rotation: VariantConfig[] = [];

  function load(next: readonly VariantConfig[]): void {
    variants = next;
    byName = new Map(next.map((v) => [v.name, v]));
    windows = new Map(next.filter((v) => v.canary).map((v) => [v.name, new CanaryWindow(v.canary!)]));
    rolledBack.clear();
    rotation = [...next];
    deps.metrics.variantInRotation.reset();
    for (const v of next) deps.metrics.variantInRotation.set({ variant: v.name }, 1);
  }

  function rollBack(name: string, verdict: NonNullable<ReturnType<CanaryWindow['verdict']>>): void {
    rolledBack.add(name);
    rotation = variants.filter((v) => !rolledBack.has(v.name));
    deps.metrics.variantRollbacks.inc({ variant: name, reason: verdict.reason });
    deps.metrics.variantInRotation.set({ variant: name }, 0);
    deps.logger.warn({ variant: name, ...verdict }, 'canary variant taken out of rotation');
  }

  load(initial);
  return {
    get variants() {
      return variants;
    },
    choose({ stickyKey, forced, mayForce }) {
      if (forced !== undefined) {
        if (!mayForce) throw new ProntoError('forbidden_variant_override', `This API key may not choose a variant with ${VARIANT_HEADER}`, { field: VARIANT_HEADER });
        if (!byName.has(forced) && !(variants.length === 0 && forced === DEFAULT_VARIANT)) {
          const known = variants.length > 0 ? variants.map((v) => v.name).join(', ') : DEFAULT_VARIANT;
          throw new ProntoError('invalid_input', `${VARIANT_HEADER} names no variant: "${forced}" is not one of ${known}`, { field: VARIANT_HEADER });
        }
        return forced;
      }
      return assignVariant(stickyKey, rotation) ?? DEFAULT_VARIANT;
    },
    record(variant, status, seconds) {
      const window = windows.get(variant);
      if (!window || rolledBack.has(variant)) return;
      const now = Date.now();
      window.record(status >= 500, seconds, now);
      const verdict = window.verdict(now);
      if (verdict) rollBack(variant, verdict);
    },
    inRotation: (name) => byName.has(name) && !rolledBack.has(name),
    reload(next) {
      load(next);
      deps.logger.info({ variants: next.map((v) => `${v.name}:${v.weight}`) }, 'variants reloaded: every canary is back in rotation');
    },
  };
}
