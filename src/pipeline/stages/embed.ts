import { createHash } from 'node:crypto';
import type { TieredCache } from '../../core/cache.js';
import type { Embedder } from '../../models/types.js';
import type { RequestContext } from '../types.js';
import type { StageRunner } from '../stage-runner.js';

/**
 * Embeds texts through the model runtime, behind a cache of recent vectors (memory, then Redis
 * when configured): repeated queries (dashboards, retries, popular questions) skip the model.
 */
export function createEmbedStage(deps: { cache: TieredCache<Float32Array>; runner: StageRunner }) {
  const { cache, runner } = deps;

  async function embedTexts(embedder: Embedder, texts: string[], ctx: RequestContext, signal: AbortSignal) {
    const keys = texts.map((text) => `${embedder.name}:${createHash('sha256').update(text).digest('base64url')}`);
    const vectors = await Promise.all(keys.map((key) => cache.get(key)));
    const missing = vectors.flatMap((vector, i) => (vector ? [] : [i]));
    if (missing.length === 0) return vectors as Float32Array[];
    let servedByFallback = false;
    const fresh = await embedder.embed(
      missing.map((i) => texts[i]),
      {
        signal,
        deadlineAt: ctx.deadline.at,
        trace: ctx.trace,
        onFallback: (event) => {
          servedByFallback = true;
          runner.degrade(ctx, 'embed', event.reason, event.to);
        },
      },
    );
    missing.forEach((i, j) => {
      vectors[i] = fresh[j];
      // A fallback model's vectors live in another space: never cache them under this model's name.
      if (!servedByFallback) cache.set(keys[i], fresh[j]);
    });
    return vectors as Float32Array[];
  }

  return {
    embedTexts,
    /** The query vector, or null when embedding failed and the caller should go sparse-only. */
    async embedQuery(embedder: Embedder, query: string, ctx: RequestContext): Promise<Float32Array | null> {
      return runner.run(ctx, 'embed', async (signal) => (await embedTexts(embedder, [query], ctx, signal))[0], {
        name: 'sparse',
        run: () => null,
      });
    },
  };
}

export type EmbedStage = ReturnType<typeof createEmbedStage>;
