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
 * Ingests pronto's own docs (sample-corpus/*.md, one document per section) into each of `namespaces`
 * that is empty, so a fresh `npm start` answers with citations. The caller passes one namespace per
 * tenant that can call (each its own copy, reachable with its own key); the corpus is embedded once
 * for all of them. `vectors` remembers what the embedder made, by text: a caller that builds
 * several runtimes with the same embedder passes the same map and embeds the corpus once in all.
 * Returns how many documents it ingested in all.
 */
export async function ensureSampleCorpus(
  retrieval: Retrieval,
  embedder: Embedder,
  namespaces: string[],
  logger: Logger,
  options: { signal?: AbortSignal; vectors?: Map<string, Float32Array> } = {},
): Promise<number> {
  const signal = options.signal ?? new AbortController().signal;
  const once = embeddedOnce(embedder, options.vectors ?? new Map());
  let total = 0;
  for (const namespace of namespaces) {
    if (await retrieval.namespaceExists(namespace)) continue;
    const started = performance.now();
    const result = await retrieval.ingest(namespace, await loadSampleCorpus(), { embedder: once, signal });
    for (const failure of result.failed) logger.warn({ failure }, 'a sample-corpus document was rejected');
    logger.info({ namespace, documents: result.accepted.length, ms: Math.round(performance.now() - started) }, 'ingested the sample corpus');
    total += result.accepted.length;
  }
  return total;
}

/** The embedder, remembering every vector it made in `vectors`: the second tenant's copy costs no inference. */
function embeddedOnce(embedder: Embedder, vectors: Map<string, Float32Array>): Embedder {
  return {
    role: 'embedder',
    name: embedder.name,
    backend: embedder.backend,
    dimensions: embedder.dimensions,
    async embed(texts, options) {
      const missing = [...new Set(texts.filter((text) => !vectors.has(text)))];
      if (missing.length > 0) (await embedder.embed(missing, options)).forEach((v, i) => vectors.set(missing[i], v));
      return texts.map((text) => vectors.get(text)!);
    },
  };
}
