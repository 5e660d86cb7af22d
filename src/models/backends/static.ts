import { Type } from '@sinclair/typebox';
import { join } from 'node:path';
import { throwIfAborted } from '../../core/deadline.js';
import type { ModelConfig } from '../../config/models.js';
import { ConfigError } from '../../core/errors.js';
import { normalize } from '../../core/vectors.js';
import { modelKey, parseOptions } from '../options.js';
import type { BackendContext } from '../backend.js';
import type { CallOptions, Embedder, ModelLifecycle } from '../types.js';
import { loadOrDistill, type StaticTable } from '../use-lite/distill.js';
import { SentencePieceTokenizer } from '../use-lite/tokenizer.js';
import { loadVocabulary } from '../use-lite/vocabulary.js';

export const StaticOptionsSchema = Type.Object({
  /** Where the distilled table is cached; default `<data_dir>/models`. */
  cache_dir: Type.Optional(Type.String({ minLength: 1 })),
});

/**
 * `static`: use-lite distilled into a table of one vector per vocabulary piece (see
 * ../use-lite/distill.ts). A text is tokenised in linear time and its pieces' rows summed: no
 * transformer pass, so a query costs a fraction of a millisecond and a bulk load is bound by
 * tokenising. Distilled at first start (a few seconds) or by `pronto distill`, then cached.
 */
export class StaticEmbedder implements Embedder, ModelLifecycle {
  readonly role = 'embedder' as const;
  readonly backend = 'static';
  dimensions = 0;
  private table?: StaticTable;
  private tokenizer?: SentencePieceTokenizer;

  constructor(
    readonly name: string,
    private readonly cacheDir: string,
    private readonly context: Pick<BackendContext, 'logger'>,
  ) {}

  /** What built the vectors: an index records it and refuses a different embedder. */
  get fingerprint(): string {
    return `static:use-lite-${this.table?.weightsHash.slice(0, 16) ?? 'unloaded'}`;
  }

  async load(): Promise<void> {
    this.tokenizer ??= new SentencePieceTokenizer(await loadVocabulary());
    this.table ??= await loadOrDistill(this.cacheDir, this.context.logger);
    this.dimensions = this.table.dimensions;
  }

  async warmup(): Promise<void> {}

  async embed(texts: string[], options: CallOptions): Promise<Float32Array[]> {
    throwIfAborted(options.signal);
    if (!this.table || !this.tokenizer) throw new Error(`model ${this.name} is not loaded`);
    const { rows, dimensions } = this.table;
    return texts.map((text) => {
      const sum = new Float32Array(dimensions);
      const ids = this.tokenizer!.encode(text);
      for (const id of ids.length === 0 ? [0] : ids) {
        const offset = id * dimensions;
        for (let d = 0; d < dimensions; d++) sum[d] += rows[offset + d];
      }
      return normalize(sum);
    });
  }

  async close(): Promise<void> {
    this.table = undefined;
  }
}

export function createStatic(config: ModelConfig, context: BackendContext): StaticEmbedder {
  if (config.role !== 'embedder') throw new ConfigError(`${modelKey(config)}.role`, `the static backend serves embedders, not ${config.role}s`);
  const options = parseOptions(StaticOptionsSchema, config);
  const cacheDir = options.cache_dir ?? (context.dataDir === undefined ? undefined : join(context.dataDir, 'models'));
  if (cacheDir === undefined) throw new ConfigError(`${modelKey(config)}.options.cache_dir`, 'the static backend needs a cache_dir or a data_dir to cache its distilled table in');
  return new StaticEmbedder(config.name, cacheDir, context);
}
