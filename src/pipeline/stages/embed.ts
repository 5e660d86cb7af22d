import { LRUCache } from 'lru-cache';
import type { Metrics } from '../../observability/metrics.js';
import type { Embedder } from '../../models/types.js';
import type { RequestContext } from '../types.js';
import type { StageRunner } from '../stage-runner.js';

/**
 * Embeds texts through the model runtime, with an LRU of recent query vectors: repeated queries
 * (dashboards, retries, popular questions) skip the model entirely.
 */
export function createEmbedStage(deps: { metrics: Metrics; runner: StageRunner; cacheSize?: number }) {
  const cache = new LRUCache<string, Float32Array>({ max: deps.cacheSize ?? 10_000 });

  async function embedTexts(embedder: Embedder, texts: string[], ctx: RequestContext, signal: AbortSignal) {
    const keys = texts.map((text) => `${embedder.name}\u0000${text}`);
    const vectors: Array<Float32Array | undefined> = keys.map((key) => cache.get(key));
    const missing = vectors.flatMap((vector, i) => (vector ? [] : [i]));
    deps.metrics.cache.inc({ cache: 'embedding', result: 'hit' }, texts.length - missing.length);
    if (missing.length > 0) {
      deps.metrics.cache.inc({ cache: 'embedding', result: 'miss' }, missing.length);
      const fresh = await embedder.embed(
        missing.map((i) => texts[i]),
        {
          signal,
          deadlineAt: ctx.deadline.at,
          onFallback: (event) => deps.runner.degrade(ctx, 'embed', event.reason, event.to),
        },
      );
      missing.forEach((i, j) => {
        vectors[i] = fresh[j];
        cache.set(keys[i], fresh[j]);
      });
    }
    return vectors as Float32Array[];
  }

  return {
    embedTexts,
    /** The query vector, or null when embedding failed and the caller should go sparse-only. */
    async embedQuery(embedder: Embedder, query: string, ctx: RequestContext): Promise<Float32Array | null> {
      return deps.runner.run(
        ctx,
        'embed',
        async (signal) => (await embedTexts(embedder, [query], ctx, signal))[0],
        { name: 'sparse', run: () => null },
      );
    },
  };
}

export type EmbedStage = ReturnType<typeof createEmbedStage>;
