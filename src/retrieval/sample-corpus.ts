import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Embedder } from '../models/types.js';
import { parseFile } from './parse.js';
import type { Retrieval } from './retrieval.js';
import type { DocumentInput } from './types.js';

/** The bundled corpus directory: `sample-corpus/` at the package root, from src/ or dist/src/. */
export function sampleCorpusDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the package root');
    dir = parent;
  }
  return join(dir, 'sample-corpus');
}

export async function loadSampleCorpus(dir = sampleCorpusDir()): Promise<DocumentInput[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.md')).sort();
  const parsed = await Promise.all(files.map((f) => parseFile(join(dir, f))));
  return parsed.flatMap((p) => p.documents);
}

/**
 * Ingests pronto's own docs (sample-corpus/*.md, one document per section) into `namespace` when it
 * is empty, so a fresh `npm start` answers with citations. Returns how many documents it ingested.
 */
export async function ensureSampleCorpus(
  retrieval: Retrieval,
  embedder: Embedder,
  namespace: string,
  logger: Logger,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  if (await retrieval.namespaceExists(namespace)) return 0;
  const started = performance.now();
  const result = await retrieval.ingest(namespace, await loadSampleCorpus(), { embedder, signal });
  for (const failure of result.failed) logger.warn({ failure }, 'a sample-corpus document was rejected');
  const accepted = result.accepted.length;
  logger.info({ namespace, documents: accepted, ms: Math.round(performance.now() - started) }, 'ingested the sample corpus');
  return accepted;
}

