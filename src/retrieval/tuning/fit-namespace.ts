import type { Logger } from 'pino';
import type { RetrievalConfig } from '../../config/retrieval.js';
import type { Embedder } from '../../models/types.js';
import type { LanceVectorStore } from '../lance-store.js';
import type { Bm25Index } from '../sparse.js';
import { fitFusionLabelFree, settingAsFusion } from './label-free.js';
import { QueryAdapter } from '../query-adapter.js';
import type { FitOptions, TuningFit, TuningStore } from './tuning-store.js';

export interface FitNamespaceDeps {
  store: LanceVectorStore;
  sparse: Bm25Index;
  tuning: TuningStore;
  rc: RetrievalConfig;
}

/**
 * Fits a namespace's fusion from its own held-out sentences (`pronto tune`, and the fit at
 * ingest): the fit, ready for TuningStore.save.
 */
export async function fitNamespace(deps: FitNamespaceDeps, namespace: string, options: FitOptions): Promise<TuningFit> {
  const { store, sparse, rc } = deps;
  const fitted = await fitFusionLabelFree({ store, namespace, rc, embedder: options.embedder }, options.pseudoQueries, options.signal, {
    adapter: options.adapter === 'pseudo-queries',
  });
  const adapter = options.adapter instanceof QueryAdapter ? options.adapter : fitted.adapter;
  return {
    fusion: settingAsFusion(fitted.chosen),
    adapter,
    documents: sparse.documentCount(namespace),
    report: { by: options.by, embedder: options.embedder.name, ...fitted.report, adapter: adapter?.info },
  };
}

/**
 * The fit at ingest (`retrieval.tuning.fit_every_documents`): after an ingest, a namespace that
 * has grown by that many documents since its last fit (or since empty) is fitted again in the
 * background, one fit per namespace at a time, at bulk priority on the embedder (queries go first).
 * A failed fit is logged and the namespace keeps its earlier tuning.
 */
export class FitAtIngest {
  private readonly running = new Set<string>();
  private readonly stopped = new AbortController();
  private readonly fits = new Set<Promise<void>>();

  constructor(
    private readonly deps: FitNamespaceDeps,
    private readonly logger: Logger,
  ) {}

  /** Called after each ingest into `namespace` with the embedder that ingested it. */
  afterIngest(namespace: string, embedder: Embedder): void {
    const every = this.deps.rc.tuning.fit_every_documents;
    if (every === 0 || this.running.has(namespace) || this.stopped.signal.aborted) return;
    this.running.add(namespace);
    const fit = this.fitIfGrown(namespace, embedder, every)
      .catch((err) => this.logger.warn({ err, namespace }, 'fitting the namespace at ingest failed; it keeps its earlier tuning'))
      .finally(() => this.running.delete(namespace));
    this.fits.add(fit);
    void fit.finally(() => this.fits.delete(fit));
  }

  /** Stops fits in flight (their embedding is aborted) and waits for them. */
  async close(): Promise<void> {
    this.stopped.abort();
    await Promise.allSettled([...this.fits]);
  }

  private async fitIfGrown(namespace: string, embedder: Embedder, every: number): Promise<void> {
    const documents = this.deps.sparse.documentCount(namespace);
    const last = (await this.deps.tuning.get(namespace))?.documents ?? 0;
    if (documents - last < every) return;
    const started = performance.now();
    const fit = await fitNamespace(this.deps, namespace, {
      embedder,
      pseudoQueries: this.deps.rc.tuning.pseudo_queries,
      signal: this.stopped.signal,
      by: `fit at ingest (${documents} documents)`,
    });
    const saved = await this.deps.tuning.save(namespace, fit);
    this.logger.info(
      { namespace, version: saved.version, fusion: saved.fusion, ms: Math.round(performance.now() - started) },
      'fitted the fusion of the namespace',
    );
  }
}
