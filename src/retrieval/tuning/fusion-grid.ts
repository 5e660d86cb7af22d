import type { RetrievalConfig } from '../../config/retrieval.js';
import { rankDocuments } from '../eval/evaluate.js';
import { mean, ndcgAt, recallAt } from '../eval/metrics.js';
import { fuse, type AgreementGate } from '../fusion.js';
import type { Hit } from '../types.js';

/** One query's two candidate lists and its judged documents (graded relevance). */
export interface QueryLists {
  dense: Hit[];
  sparse: Hit[];
  judged: Map<string, number>;
}

/** A weighted-fusion setting: the dense share of the weights, and the agreement gate if any. */
export interface FusionSetting {
  dense: number;
  gate?: AgreementGate;
}

export interface QueryScore {
  ndcg10: number;
  recall100: number;
}

const DENSE_WEIGHTS = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4];
const GATES: Array<AgreementGate | undefined> = [undefined, ...[0.3, 0.5, 0.7, 1].map((full) => ({ depth: 10, full }))];

/** Every dense weight without a gate. */
export const WEIGHT_GRID: FusionSetting[] = DENSE_WEIGHTS.map((dense) => ({ dense }));
/** Every dense weight with every gate (and none). */
export const WEIGHT_AND_GATE_GRID: FusionSetting[] = DENSE_WEIGHTS.flatMap((dense) => GATES.map((gate) => ({ dense, gate })));

/** The setting `retrieval` config describes. */
export function configuredSetting(rc: RetrievalConfig): FusionSetting {
  const { enabled, depth, full } = rc.agreement;
  return { dense: rc.weights.dense / (rc.weights.dense + rc.weights.sparse), gate: enabled ? { depth, full } : undefined };
}

/**
 * Scores fusion settings on fixed lists with the real `fuse()`: the lists are fetched once, and
 * each setting's per-query scores are memoised (a grid search scores each setting many times).
 */
export class FusionScorer {
  private readonly scores = new Map<string, QueryScore[]>();

  constructor(
    readonly lists: QueryLists[],
    private readonly rc: RetrievalConfig,
  ) {}

  /** Per-query nDCG@10 and recall@100 of `setting`, in the order of `lists`. */
  perQuery(setting: FusionSetting): QueryScore[] {
    const key = JSON.stringify(setting);
    let perQuery = this.scores.get(key);
    if (!perQuery) {
      perQuery = this.lists.map(({ dense, sparse, judged }) => {
        const fused = fuse(dense, sparse, {
          method: 'weighted',
          topK: 200,
          weights: { dense: setting.dense, sparse: 1 - setting.dense },
          rrfK: this.rc.rrf_k,
          normalization: this.rc.normalization,
          agreement: setting.gate,
        });
        const ranked = rankDocuments(fused);
        return { ndcg10: ndcgAt(ranked, judged, 10), recall100: recallAt(ranked, judged, 100) };
      });
      this.scores.set(key, perQuery);
    }
    return perQuery;
  }

  /** The grid's setting with the best mean nDCG@10 over the queries `use` keeps (ties: the earlier, so the smaller dense weight). */
  best(grid: FusionSetting[], use: (i: number) => boolean = () => true): FusionSetting {
    const score = (setting: FusionSetting) => mean(this.perQuery(setting).filter((_, i) => use(i)).map((s) => s.ndcg10));
    return grid.reduce((a, b) => (score(b) > score(a) ? b : a));
  }
}

/** Mean nDCG@10 and recall@100, to 4 places. */
export function summarize(scores: QueryScore[]): { 'ndcg@10': number; 'recall@100': number } {
  return {
    'ndcg@10': Number(mean(scores.map((s) => s.ndcg10)).toFixed(4)),
    'recall@100': Number(mean(scores.map((s) => s.recall100)).toFixed(4)),
  };
}
