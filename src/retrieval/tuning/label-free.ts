import type { RetrievalConfig } from '../../config/retrieval.js';
import type { Embedder } from '../../models/types.js';
import { DEFAULT_ADAPTER_TRAINING } from '../adapter-training.js';
import { trainQueryAdapter } from '../eval/train-adapter.js';
import type { LanceVectorStore } from '../lance-store.js';
import type { QueryAdapter } from '../query-adapter.js';
import { configuredSetting, FusionScorer, summarize, WEIGHT_AND_GATE_GRID, type FusionSetting } from './fusion-grid.js';
import { heldOutLists, type HeldOut } from './held-out-lists.js';
import type { FusionTuning } from './tuning-store.js';

export interface LabelFreeFusion {
  /** The grid's setting best on the pseudo-queries. */
  chosen: FusionSetting;
  /** What the pseudo-queries scored: BM25 alone, the configured fusion and the chosen one. */
  report: Record<string, unknown>;
  /** A query adapter trained on the pseudo-queries against the held-out copy, when asked for. */
  adapter?: QueryAdapter;
}

/**
 * Fits hybrid fusion (dense weight and agreement gate) to a namespace without judged queries: its
 * own sentences, held out of their documents, are the queries and their documents the answers.
 */
export async function fitFusionLabelFree(
  source: { store: LanceVectorStore; namespace: string; rc: RetrievalConfig; embedder: Embedder },
  pseudoQueries: number,
  signal: AbortSignal,
  options: { adapter?: boolean } = {},
): Promise<LabelFreeFusion> {
  const heldOut = await heldOutLists(source, pseudoQueries, signal);
  const { lists } = heldOut;
  if (lists.length === 0) throw new Error(`${source.namespace} has no document with two sentences or more to hold one out of`);
  const scorer = new FusionScorer(lists, source.rc);
  const chosen = scorer.best(WEIGHT_AND_GATE_GRID);
  const configured = configuredSetting(source.rc);
  return {
    chosen,
    report: {
      pseudo_queries: lists.length,
      bm25_alone: summarize(scorer.perQuery({ dense: 0 })),
      configured: { ...configured, ...summarize(scorer.perQuery(configured)) },
      chosen: { ...chosen, ...summarize(scorer.perQuery(chosen)) },
    },
    adapter: options.adapter ? pseudoQueryAdapter(heldOut, source.embedder.name, source.namespace) : undefined,
  };
}

/**
 * A query adapter trained as `pronto train-adapter` trains one, with each pseudo-query's own
 * document (its chunks in the held-out copy) as the relevant one.
 */
function pseudoQueryAdapter(heldOut: HeldOut, embedder: string, namespace: string): QueryAdapter {
  const queries = heldOut.queries.map((q) => ({ id: q.docId, text: q.text }));
  const qrels = new Map(queries.map((q) => [q.id, new Map([[q.id, 1]])]));
  return trainQueryAdapter(heldOut.corpus, { qrels }, queries, heldOut.queryVectors, {
    ...DEFAULT_ADAPTER_TRAINING,
    embedder,
    source: `pronto tune ${namespace}: ${queries.length} held-out sentences`,
  });
}

/** A setting as the fusion a namespace's tuning stores (weights summing to 1). */
export function settingAsFusion(setting: FusionSetting): FusionTuning {
  return { weights: { dense: setting.dense, sparse: Number((1 - setting.dense).toFixed(4)) }, agreement: setting.gate };
}

/** The `retrieval` config that applies a namespace's fusion to every namespace (the gate on or off). */
export function fusionAsConfig(fusion: FusionTuning, rc: RetrievalConfig): { retrieval: Record<string, unknown> } {
  return {
    retrieval: {
      fusion: 'weighted',
      weights: fusion.weights,
      agreement: fusion.agreement ? { enabled: true, ...fusion.agreement } : { ...rc.agreement, enabled: false },
    },
  };
}
