/**
 * Fusion settings chosen by K-fold cross-validation on a BEIR split (not part of the test suite):
 * each judged query's dense and BM25 lists are fetched once, then every setting of the grid (dense
 * weight × agreement gate) is fused with the real `fuse()`. Each fold picks the setting best on the
 * other folds and scores its own queries with it, so the "held out" figures never saw their
 * queries. Prints JSON: BM25 alone, the configured fusion, and the held-out figures of choosing a
 * fixed weight or a weight and a gate.
 *
 *   node --import tsx bench/fusion-cv.ts ../shared/data/scifact --split train --config bench/static.yaml [--folds 5]
 *
 * Uses the eval harness's cached index (`pronto eval` builds it on first use).
 */
import { parseArgs } from 'node:util';
import { withEvalIndex } from '../src/cli/eval-index.js';
import { rankDocuments } from '../src/retrieval/eval/evaluate.js';
import { mean, ndcgAt, recallAt } from '../src/retrieval/eval/metrics.js';
import { fuse, type AgreementGate } from '../src/retrieval/fusion.js';
import type { Hit } from '../src/retrieval/types.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { split: { type: 'string', default: 'train' }, config: { type: 'string' }, folds: { type: 'string', default: '5' } },
});
const folds = Number(values.folds);
const DENSE_WEIGHTS = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4];
const GATES: Array<AgreementGate | undefined> = [undefined, ...[0.3, 0.5, 0.7, 1].map((full) => ({ depth: 10, full }))];

interface Setting {
  dense: number;
  gate?: AgreementGate;
}
interface Lists {
  dense: Hit[];
  sparse: Hit[];
  judged: Map<string, number>;
}

await withEvalIndex({ dir: positionals[0], split: values.split!, configFile: values.config }, async (index) => {
  const signal = new AbortController().signal;
  const rc = index.config.retrieval;
  const lists: Lists[] = [];
  for (const query of index.dataset.queries) {
    const vector = (await index.embedder.embed([query.text], { signal }))[0];
    const request = { query: query.text, vector, namespace: index.namespace, topK: rc.candidates, embedder: index.embedder, signal };
    const dense = await index.retrieval.search({ ...request, mode: 'dense' });
    const sparse = await index.retrieval.search({ ...request, mode: 'sparse' });
    lists.push({ dense, sparse, judged: index.dataset.qrels.get(query.id)! });
  }
  const scores = new Map<string, Array<{ ndcg10: number; recall100: number }>>();
  const scored = (setting: Setting) => {
    const key = JSON.stringify(setting);
    let perQuery = scores.get(key);
    if (!perQuery) {
      perQuery = lists.map(({ dense, sparse, judged }) => {
        const fused = fuse(dense, sparse, {
          method: 'weighted',
          topK: 200,
          weights: { dense: setting.dense, sparse: 1 - setting.dense },
          rrfK: rc.rrf_k,
          normalization: rc.normalization,
          agreement: setting.gate,
        });
        const ranked = rankDocuments(fused);
        return { ndcg10: ndcgAt(ranked, judged, 10), recall100: recallAt(ranked, judged, 100) };
      });
      scores.set(key, perQuery);
    }
    return perQuery;
  };
  const summary = (picked: Array<{ ndcg10: number; recall100: number }>) => ({
    'ndcg@10': Number(mean(picked.map((s) => s.ndcg10)).toFixed(4)),
    'recall@100': Number(mean(picked.map((s) => s.recall100)).toFixed(4)),
  });
  const heldOut = (grid: Setting[]) => {
    const picked: Array<{ ndcg10: number; recall100: number }> = [];
    const chosen: Setting[] = [];
    for (let fold = 0; fold < folds; fold++) {
      const inFold = (i: number) => i % folds === fold;
      const trainingScore = (setting: Setting) => mean(scored(setting).filter((_, i) => !inFold(i)).map((s) => s.ndcg10));
      const best = grid.reduce((a, b) => (trainingScore(b) > trainingScore(a) ? b : a));
      chosen.push(best);
      picked.push(...scored(best).filter((_, i) => inFold(i)));
    }
    return { ...summary(picked), chosen_per_fold: chosen };
  };
  const weightsOnly = DENSE_WEIGHTS.map((dense) => ({ dense }));
  const withGates = DENSE_WEIGHTS.flatMap((dense) => GATES.map((gate) => ({ dense, gate })));
  const { enabled, depth, full } = rc.agreement;
  const configured: Setting = { dense: rc.weights.dense / (rc.weights.dense + rc.weights.sparse), gate: enabled ? { depth, full } : undefined };
  console.log(
    JSON.stringify(
      {
        dataset: positionals[0],
        split: values.split,
        embedder: index.embedder.name,
        queries: lists.length,
        folds,
        bm25_alone: summary(scored({ dense: 0 })),
        configured: { ...configured, ...summary(scored(configured)) },
        held_out_fixed_weight: heldOut(weightsOnly),
        held_out_weight_and_gate: heldOut(withGates),
        in_sample: withGates.map((setting) => ({ ...setting, ...summary(scored(setting)) })),
      },
      null,
      2,
    ),
  );
});
