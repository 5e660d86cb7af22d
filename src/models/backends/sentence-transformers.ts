import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InputPrompts } from '../types.js';

export type Pooling = 'mean' | 'cls' | 'none';

/**
 * How a sentence-transformers model directory says its vectors are made: `1_Pooling/config.json`
 * names the pooling (`pooling_mode_cls_token` for bge-style models, `pooling_mode_mean_tokens` for
 * MiniLM-style ones) and `modules.json` lists a `Normalize` module when vectors are unit length.
 * `config_sentence_transformers.json` `prompts` holds the prompts of each kind of input (`query`,
 * and `passage` or `document`). Absent files say nothing (undefined), so a plain transformers.js
 * directory keeps the defaults.
 */
export function sentenceTransformersLayout(dir: string): { pooling?: Pooling; normalize?: boolean; prompts?: InputPrompts } {
  const read = (file: string): unknown => (existsSync(join(dir, file)) ? JSON.parse(readFileSync(join(dir, file), 'utf8')) : undefined);
  const pooling = read('1_Pooling/config.json') as { pooling_mode_cls_token?: boolean; pooling_mode_mean_tokens?: boolean } | undefined;
  const modules = read('modules.json') as Array<{ type?: string }> | undefined;
  const prompts = (read('config_sentence_transformers.json') as { prompts?: Record<string, string> } | undefined)?.prompts;
  return {
    prompts: prompts && definedOnly({ query: prompts.query, passage: prompts.passage ?? prompts.document }),
    pooling: pooling?.pooling_mode_cls_token ? 'cls' : pooling?.pooling_mode_mean_tokens ? 'mean' : undefined,
    normalize: modules ? modules.some((m) => m.type?.endsWith('.Normalize') ?? false) : undefined,
  };
}

function definedOnly(prompts: InputPrompts): InputPrompts {
  return Object.fromEntries(Object.entries(prompts).filter(([, prompt]) => typeof prompt === 'string' && prompt.length > 0));
}
