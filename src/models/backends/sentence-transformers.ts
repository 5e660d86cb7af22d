import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Pooling = 'mean' | 'cls' | 'none';

/**
 * How a sentence-transformers model directory says its vectors are made: `1_Pooling/config.json`
 * names the pooling (`pooling_mode_cls_token` for bge-style models, `pooling_mode_mean_tokens` for
 * MiniLM-style ones) and `modules.json` lists a `Normalize` module when vectors are unit length.
 * Absent files say nothing (undefined), so a plain transformers.js directory keeps the defaults.
 */
export function sentenceTransformersLayout(dir: string): { pooling?: Pooling; normalize?: boolean } {
  const read = (file: string): unknown => (existsSync(join(dir, file)) ? JSON.parse(readFileSync(join(dir, file), 'utf8')) : undefined);
  const pooling = read('1_Pooling/config.json') as { pooling_mode_cls_token?: boolean; pooling_mode_mean_tokens?: boolean } | undefined;
  const modules = read('modules.json') as Array<{ type?: string }> | undefined;
  return {
    pooling: pooling?.pooling_mode_cls_token ? 'cls' : pooling?.pooling_mode_mean_tokens ? 'mean' : undefined,
    normalize: modules ? modules.some((m) => m.type?.endsWith('.Normalize') ?? false) : undefined,
  };
}
