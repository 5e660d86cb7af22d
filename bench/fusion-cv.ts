/**
 * Fusion settings chosen by K-fold cross-validation on a BEIR split (not part of the test suite):
 * each judged query's dense and BM25 lists are fetched once, then every setting of the grid (dense
 * weight × agreement gate) is fused with the real `fuse()`. Each fold picks the setting best on the
 * other folds and scores its own queries with it, so the "held out" figures never saw their
 * queries. With `--label-free N`, also the setting `pronto tune` fits from N pseudo-queries (held-out
 * sentences of the corpus, no qrels) and the query adapter it trains on them, scored on every judged
 * query. Prints JSON: BM25 alone, the configured fusion, and the held-out figures.
 *
 *   node --import tsx bench/fusion-cv.ts ../shared/data/scifact --split train --config bench/static.yaml [--folds 5] [--label-free 500]
 *
 * Uses the eval harness's cached index (`pronto eval` builds it on first use).
 */
import { parseArgs } from 'node:util';
import { withEvalIndex } from '../src/cli/eval-index.js';
import {
  configuredSetting,
  FusionScorer,
  summarize,
  WEIGHT_AND_GATE_GRID,
  WEIGHT_GRID,
  type FusionSetting,
  type QueryLists,
  type QueryScore,
} from '../src/retrieval/tuning/fusion-grid.js';
import { fitFusionLabelFree } from '../src/retrieval/tuning/label-free.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    split: { type: 'string', default: 'train' },
    config: { type: 'string' },
    folds: { type: 'string', default: '5' },
    'label-free': { type: 'string' },
  },
});
const folds = Number(values.folds);

await withEvalIndex({ dir: positionals[0], split: values.split!, configFile: values.config }, async (index) => {
  const signal = new AbortController().signal;
  const rc = index.config.retrieval;
  const lists: QueryLists[] = [];
  const vectors: Float32Array[] = [];
  const denseSearch = (query: string, vector: Float32Array) =>
    index.retrieval.search({ query, vector, mode: 'dense', namespace: index.namespace, topK: rc.candidates, embedder: index.embedder, signal });
  for (const query of index.dataset.queries) {
    const vector = (await index.embedder.embed([query.text], { signal, input: 'query' }))[0];
    const dense = await denseSearch(query.text, vector);
    const sparse = await index.retrieval.search({ query: query.text, mode: 'sparse', namespace: index.namespace, topK: rc.candidates, embedder: index.embedder, signal });
    lists.push({ dense, sparse, judged: index.dataset.qrels.get(query.id)! });
    vectors.push(vector);
  }
  const scorer = new FusionScorer(lists, rc);
  const heldOut = (grid: FusionSetting[]) => {
    const picked: QueryScore[] = [];
    const chosen: FusionSetting[] = [];
    for (let fold = 0; fold < folds; fold++) {
      const inFold = (i: number) => i % folds === fold;
      const best = scorer.best(grid, (i) => !inFold(i));
      chosen.push(best);
      picked.push(...scorer.perQuery(best).filter((_, i) => inFold(i)));
    }
    return { ...summarize(picked), chosen_per_fold: chosen };
  };
  const labelFree = async (pseudoQueries: number) => {
    const source = { store: index.store, namespace: index.namespace, rc, embedder: index.embedder };
    const fitted = await fitFusionLabelFree(source, pseudoQueries, signal, { adapter: true });
    const adapted: QueryLists[] = [];
    for (const [i, query] of index.dataset.queries.entries()) {
      adapted.push({ ...lists[i], dense: await denseSearch(query.text, fitted.adapter!.apply(vectors[i])) });
    }
    const withAdapter = new FusionScorer(adapted, rc);
    return {
      ...fitted.chosen,
      ...summarize(scorer.perQuery(fitted.chosen)),
      dense_alone: summarize(scorer.perQuery({ dense: 1 })),
      with_adapter: { dense_alone: summarize(withAdapter.perQuery({ dense: 1 })), chosen: summarize(withAdapter.perQuery(fitted.chosen)) },
      pseudo: fitted.report,
    };
  };
  const configured = configuredSetting(rc);
  console.log(
    JSON.stringify(
      {
        dataset: positionals[0],
        split: values.split,
        embedder: index.embedder.name,
        queries: lists.length,
        folds,
        bm25_alone: summarize(scorer.perQuery({ dense: 0 })),
        configured: { ...configured, ...summarize(scorer.perQuery(configured)) },
        held_out_fixed_weight: heldOut(WEIGHT_GRID),
        held_out_weight_and_gate: heldOut(WEIGHT_AND_GATE_GRID),
        label_free: values['label-free'] ? await labelFree(Number(values['label-free'])) : undefined,
        in_sample: WEIGHT_AND_GATE_GRID.map((setting) => ({ ...setting, ...summarize(scorer.perQuery(setting)) })),
      },
      null,
      2,
    ),
  );
});
