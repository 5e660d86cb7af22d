import type { Config } from './schema.js';
import type { VariantConfig } from './variants.js';

/** The keys a variant may put over the base config (whatever slice of it the caller holds). */
export interface VariedConfig {
  pipeline: Config['pipeline'];
  retrieval: Config['retrieval'];
  deadline: { budgets: Config['deadline']['budgets'] };
  faults: Config['faults'];
}

/**
 * The config a variant's pipeline runs with: the base config with what the variant names put
 * over it. The variant's namespace is not here: it replaces the request's namespace, not a key.
 */
export function variantConfig<C extends VariedConfig>(base: C, variant: VariantConfig): C {
  const retrieval = variant.retrieval ?? {};
  return {
    ...base,
    pipeline: { ...base.pipeline, ...variant.pipeline },
    retrieval: {
      ...base.retrieval,
      ...retrieval,
      weights: { ...base.retrieval.weights, ...retrieval.weights },
      rerank: { ...base.retrieval.rerank, ...retrieval.rerank },
    },
    deadline: { ...base.deadline, budgets: { ...base.deadline.budgets, ...variant.budgets } },
    faults: { ...base.faults, ...variant.faults },
  };
}
