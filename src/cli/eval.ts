import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../config/load.js';
import { createMetrics } from '../observability/metrics.js';
import { createRetrieval } from '../retrieval/create-retrieval.js';
import { loadBeir } from '../retrieval/eval/beir.js';
import { LanceVectorStore } from '../retrieval/lance-store.js';
import { evaluate } from '../retrieval/eval/evaluate.js';
import type { FusionMethod, SearchMode } from '../retrieval/types.js';
import { openEmbedder, progressBar } from './ingest.js';
import type { Config } from '../config/schema.js';
import { EmbedderReranker } from '../models/backends/embedder-rerank.js';
import type { Embedder, Reranker } from '../models/types.js';

const USAGE = 'pronto eval BEIR_DIR [--split train|test] [--mode dense|sparse|hybrid] [--fusion rrf|weighted] [--rerank] [--limit N] [--config FILE]';

/**
 * `pronto eval BEIR_DIR`: ingests the corpus into a scratch namespace (once per corpus hash,
 * embedder and chunking: later runs reuse it), runs every judged query of the split one at a time
 * and prints JSON with nDCG@10, recall@10, recall@100, MRR@10 and query latency percentiles.
 */
export async function runEval(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      split: { type: 'string', default: 'test' },
      mode: { type: 'string' },
      fusion: { type: 'string' },
      rerank: { type: 'boolean', default: false },
      limit: { type: 'string' },
      config: { type: 'string' },
    },
  });
  const dir = positionals[0];
  if (!dir) throw new Error(`no BEIR_DIR given\nusage: ${USAGE}`);
  const base = loadConfig({ file: values.config });
  // Recall@100 needs 100 documents after chunks are merged: let the fused list run to 200 hits.
  // Each retriever still contributes `retrieval.candidates`, as in the search route.
  const config = loadConfig({
    file: values.config,
    overrides: { retrieval: { max_top_k: Math.max(base.retrieval.max_top_k, 200) } },
  });
  const mode = (values.mode ?? config.retrieval.default_mode) as SearchMode;
  if (!['dense', 'sparse', 'hybrid'].includes(mode)) throw new Error(`--mode is dense, sparse or hybrid\nusage: ${USAGE}`);
  const fusion = (values.fusion ?? config.retrieval.fusion) as FusionMethod;
  if (!['rrf', 'weighted'].includes(fusion)) throw new Error(`--fusion is rrf or weighted\nusage: ${USAGE}`);

  const logger = pino({ level: 'warn' }, pino.destination(2));
  const dataset = await loadBeir(dir, values.split!);
  const limit = values.limit ? Number(values.limit) : dataset.queries.length;
  const retrieval = createRetrieval(config, { metrics: createMetrics({ defaultMetrics: false }), logger });
  const { embedder, close: closeModels } = await openEmbedder(config, logger);
  const signal = new AbortController().signal;
  // The index depends on the corpus, the embedder and how chunks are cut and embedded.
  const { max_tokens, overlap_tokens, vector, sentence_max_words } = config.retrieval.chunking;
  const vectors = vector === 'passage' ? '' : `-${vector}-${sentence_max_words}`;
  const namespace = `eval/${dataset.corpusHash.slice(0, 16)}/${embedder.name}/${max_tokens}-${overlap_tokens}${vectors}`;
  const marker = join(config.data_dir, 'eval-cache', Buffer.from(namespace).toString('hex') + '.done');
  try {
    await retrieval.start();
    let ingest: Record<string, unknown> = { cached: true };
    if (!existsSync(marker)) {
      process.stderr.write(`ingesting ${dataset.corpus.length} documents into ${namespace} (cached for later runs)\n`);
      const started = performance.now();
      // An interrupted ingest resumes: documents already in the namespace are whole (each group of
      // documents is one commit) and identical (the namespace names the corpus hash and settings).
      const present = new Set<string>();
      for await (const chunks of retrieval.store instanceof LanceVectorStore ? retrieval.store.scan(namespace) : []) {
        for (const chunk of chunks) present.add(chunk.docId);
      }
      const missing = dataset.corpus.filter((doc) => !present.has(doc.id));
      process.stderr.write(`${present.size} documents already indexed, ${missing.length} to go\n`);
      const progress = progressBar();
      const result = await retrieval.ingest(namespace, missing, { embedder, signal, onProgress: progress.update });
      progress.stop();
      const seconds = (performance.now() - started) / 1000;
      if (result.failed.length > 0) throw new Error(`ingest failed for ${result.failed.length} documents: ${JSON.stringify(result.failed[0])}`);
      ingest = { cached: false, resumed_from: present.size, seconds, docs_per_second: result.accepted.length / seconds };
      mkdirSync(join(config.data_dir, 'eval-cache'), { recursive: true });
      writeFileSync(marker, JSON.stringify(ingest));
    }
    const report = await evaluate(retrieval, dataset, {
      namespace,
      mode,
      fusion,
      embedder,
      reranker: values.rerank ? openReranker(config, embedder) : undefined,
      rerankTopN: config.retrieval.rerank.top_n,
      limit,
    });
    console.log(JSON.stringify({ dataset: dir, split: values.split, mode, fusion: mode === 'hybrid' ? fusion : undefined, rerank: values.rerank, ...report, ingest }, null, 2));
  } finally {
    await retrieval.close();
    await closeModels();
  }
}

/** The embedder-rerank reranker over the eval's embedder (the default reranker with embedded models). */
function openReranker(config: Config, embedder: Embedder): Reranker {
  const name = config.pipeline.reranker ?? 'embedder-rerank';
  return new EmbedderReranker(name, embedder);
}
