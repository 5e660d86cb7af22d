import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { sleep } from '../core/deadline.js';
import { RETRYABLE_CODES } from '../core/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Embedder } from '../models/types.js';
import { createMetrics } from '../observability/metrics.js';
import { createRetrieval } from '../retrieval/create-retrieval.js';
import { loadBeir, type BeirDataset } from '../retrieval/eval/beir.js';
import { LanceVectorStore } from '../retrieval/lance-store.js';
import type { Retrieval } from '../retrieval/retrieval.js';
import type { DocumentInput, IngestResult } from '../retrieval/types.js';
import { openEmbedder, progressBar } from './ingest.js';

/** A BEIR corpus indexed in its scratch namespace, with the configured embedder, for eval and adapter training. */
export interface EvalIndex {
  config: Config;
  dataset: BeirDataset;
  retrieval: Retrieval;
  store: LanceVectorStore;
  embedder: Embedder;
  namespace: string;
  /** How the index came to be: `{ cached: true }` or the ingest's time and docs/s. */
  ingest: Record<string, unknown>;
}

/**
 * Loads the data set, opens retrieval and the embedder, and ingests the corpus into the scratch
 * namespace `eval/<corpus hash>/<embedder>/<chunking>` unless an earlier run did (later runs reuse
 * it; an interrupted ingest resumes), then runs `use` and closes everything.
 *
 * The retrieval here never applies `retrieval.query_adapter` itself: eval applies adapters to query
 * vectors explicitly, so cross-validation can swap one per fold.
 */
export async function withEvalIndex<T>(
  options: { dir: string; split: string; configFile?: string },
  use: (index: EvalIndex) => Promise<T>,
): Promise<T> {
  const base = loadConfig({ file: options.configFile });
  // Recall@100 needs 100 documents after chunks are merged: let the fused list run to 200 hits.
  // Each retriever still contributes `retrieval.candidates`, as in the search route.
  const config = loadConfig({
    file: options.configFile,
    overrides: { retrieval: { max_top_k: Math.max(base.retrieval.max_top_k, 200) } },
  });
  const retrievalConfig = { ...config, retrieval: { ...config.retrieval, query_adapter: undefined } };
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const dataset = await loadBeir(options.dir, options.split);
  const retrieval = createRetrieval(retrievalConfig, { metrics: createMetrics({ defaultMetrics: false }), logger });
  const store = retrieval.store as LanceVectorStore;
  const { embedder, close: closeModels } = await openEmbedder(config, logger);
  const namespace = evalNamespace(config, dataset.corpusHash, embedder.name);
  try {
    await retrieval.start();
    const ingest = await ensureIngested(config, dataset.corpus, retrieval, store, embedder, namespace);
    return await use({ config, dataset, retrieval, store, embedder, namespace, ingest });
  } finally {
    await retrieval.close();
    await closeModels();
  }
}

/** The scratch namespace of a corpus: the index depends on the corpus, the embedder and how chunks are cut and embedded. */
export function evalNamespace(config: Config, corpusHash: string, embedderName: string): string {
  const { max_tokens, overlap_tokens, vector, sentence_max_words } = config.retrieval.chunking;
  const vectors = vector === 'passage' ? '' : `-${vector}-${sentence_max_words}`;
  return `eval/${corpusHash.slice(0, 16)}/${embedderName}/${max_tokens}-${overlap_tokens}${vectors}`;
}

/**
 * How often a transiently failed group is ingested again, and the pause before round k (k × this).
 * A loaded machine makes a model batch overrun its execution timeout now and then (use-lite on
 * SciFact at load 20 lost 3,924 of 5,183 documents that way); the same batch succeeds later.
 */
export interface IngestRetry {
  attempts: number;
  backoffMs: number;
}
const DEFAULT_RETRY: IngestRetry = { attempts: 5, backoffMs: 10_000 };

/** Ingests `corpus` into `namespace` unless an earlier run did (a marker file in the data dir says so). */
export async function ensureIngested(
  config: Config,
  corpus: DocumentInput[],
  retrieval: Retrieval,
  store: LanceVectorStore,
  embedder: Embedder,
  namespace: string,
  retry: IngestRetry = DEFAULT_RETRY,
): Promise<Record<string, unknown>> {
  const marker = join(config.data_dir, 'eval-cache', Buffer.from(namespace).toString('hex') + '.done');
  if (existsSync(marker)) return { cached: true };
  process.stderr.write(`ingesting ${corpus.length} documents into ${namespace} (cached for later runs)\n`);
  const started = performance.now();
  // An interrupted ingest resumes: documents already in the namespace are whole (each group of
  // documents is one commit) and identical (the namespace names the corpus hash and settings).
  const present = new Set<string>();
  for await (const chunks of store.scan(namespace)) for (const chunk of chunks) present.add(chunk.docId);
  const missing = corpus.filter((doc) => !present.has(doc.id));
  process.stderr.write(`${present.size} documents already indexed, ${missing.length} to go\n`);
  const progress = progressBar();
  const { accepted, failed, rounds } = await ingestRetrying(retrieval, namespace, missing, embedder, retry, progress.update);
  progress.stop();
  const seconds = (performance.now() - started) / 1000;
  if (failed.length > 0) throw new Error(`ingest failed for ${failed.length} documents: ${JSON.stringify(failed[0])}`);
  const ingest = { cached: false, resumed_from: present.size, rounds, seconds, docs_per_second: accepted / seconds };
  mkdirSync(join(config.data_dir, 'eval-cache'), { recursive: true });
  writeFileSync(marker, JSON.stringify(ingest));
  return ingest;
}

/**
 * Ingests `documents`, then again those whose group failed with a transient error (a retryable
 * code), up to `retry.attempts` rounds. A document refused for itself (invalid input) is not
 * retried. Re-ingesting is safe: a failed group wrote nothing or is replaced whole by its ids.
 */
async function ingestRetrying(
  retrieval: Retrieval,
  namespace: string,
  documents: DocumentInput[],
  embedder: Embedder,
  retry: IngestRetry,
  onProgress: (done: number, total: number) => void,
): Promise<{ accepted: number; failed: IngestResult['failed']; rounds: number }> {
  // Bulk priority without a deadline: the model runtime makes it wait for capacity, never sheds it.
  const signal = new AbortController().signal;
  let pending = documents;
  let accepted = 0;
  const failed: IngestResult['failed'] = [];
  for (let round = 1; ; round++) {
    const done = documents.length - pending.length;
    const result = await retrieval.ingest(namespace, pending, {
      embedder,
      signal,
      onProgress: (n) => onProgress(done + n, documents.length),
    });
    accepted += result.accepted.length;
    const transient = result.failed.filter((f) => RETRYABLE_CODES.has(f.error.code));
    failed.push(...result.failed.filter((f) => !RETRYABLE_CODES.has(f.error.code)));
    if (transient.length === 0) return { accepted, failed, rounds: round };
    if (round === retry.attempts) return { accepted, failed: [...failed, ...transient], rounds: round };
    const pauseMs = retry.backoffMs * round;
    process.stderr.write(
      `\n${transient.length} documents failed transiently (${transient[0].error.message}); ingesting them again in ${pauseMs / 1000} s (round ${round + 1} of ${retry.attempts})\n`,
    );
    await sleep(pauseMs);
    pending = transient.map((f) => pending[f.index]);
  }
}
