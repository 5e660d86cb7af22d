import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { sleep } from '../core/deadline.js';
import { RETRYABLE_CODES } from '../core/errors.js';
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
  let pending = await loadSampleCorpus();
  let accepted = 0;
  // A busy machine can make the model runtime shed part of this bulk load: retry just those.
  for (let attempt = 1; pending.length > 0; attempt++) {
    const result = await retrieval.ingest(namespace, pending, { embedder, signal });
    accepted += result.accepted.length;
    const transient = new Set(result.failed.filter((f) => RETRYABLE_CODES.has(f.error.code)).map((f) => f.id));
    for (const failure of result.failed) {
      if (!transient.has(failure.id) || attempt === SAMPLE_ATTEMPTS) logger.warn({ failure }, 'a sample-corpus document was rejected');
    }
    if (transient.size === 0 || attempt === SAMPLE_ATTEMPTS) break;
    pending = pending.filter((doc) => transient.has(doc.id));
    await sleep(500 * attempt, signal);
  }
  logger.info({ namespace, documents: accepted, ms: Math.round(performance.now() - started) }, 'ingested the sample corpus');
  return accepted;
}

const SAMPLE_ATTEMPTS = 5;
