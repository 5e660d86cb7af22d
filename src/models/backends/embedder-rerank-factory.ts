import { Type } from '@sinclair/typebox';
import type { ModelConfig } from '../../config/models.js';
import { modelKey, parseOptions } from '../options.js';
import { ConfigError } from '../../core/errors.js';
import type { BackendContext, BackendModel } from '../backend.js';
import type { CallOptions, Embedder, Reranker } from '../types.js';
import { DEFAULT_EMBEDDER_RERANK, EmbedderReranker } from './embedder-rerank.js';

/**
 * Builds the `embedder-rerank` reranker (./embedder-rerank.ts, owned by retrieval) from config and
 * gives it the lifecycle the runtime expects: it loads once its embedder, another model of the
 * same runtime, is loaded and warmed, and it embeds through that model's batcher.
 */
export const EmbedderRerankOptionsSchema = Type.Object({
  /** The embedder model (by name) that scores sentences. */
  embedder: Type.String({ minLength: 1, default: 'use-lite' }),
  sentence_weight: Type.Number({ default: DEFAULT_EMBEDDER_RERANK.sentenceWeight }),
  passage_weight: Type.Number({ default: DEFAULT_EMBEDDER_RERANK.passageWeight }),
  rank_weight: Type.Number({ default: DEFAULT_EMBEDDER_RERANK.rankWeight }),
  rank_k: Type.Number({ minimum: 0, default: DEFAULT_EMBEDDER_RERANK.rankK }),
  cache_size: Type.Integer({ minimum: 1, default: DEFAULT_EMBEDDER_RERANK.cacheSize }),
});

export function createEmbedderRerank(config: ModelConfig, context: BackendContext): BackendModel {
  const options = parseOptions(EmbedderRerankOptionsSchema, config);
  let reranker: Reranker | undefined;
  return {
    name: config.name,
    role: 'reranker',
    backend: 'embedder-rerank',
    async load() {
      const embedder = await context.model(options.embedder);
      if (embedder.role !== 'embedder') throw new ConfigError(`${modelKey(config)}.options.embedder`, `"${options.embedder}" is a ${embedder.role}, not an embedder`);
      reranker = new EmbedderReranker(config.name, embedder as Embedder, {
        sentenceWeight: options.sentence_weight,
        passageWeight: options.passage_weight,
        rankWeight: options.rank_weight,
        rankK: options.rank_k,
        cacheSize: options.cache_size,
      });
    },
    rerank(query: string, documents: string[], callOptions: CallOptions) {
      if (!reranker) return Promise.reject(new Error(`model ${config.name} is not loaded`));
      return reranker.rerank(query, documents, callOptions);
    },
    async warmup() {},
    async close() {
      reranker = undefined;
    },
  };
}
