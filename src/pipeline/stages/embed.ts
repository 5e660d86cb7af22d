import { keyDigest, type TieredCache } from '../../core/cache.js';
import type { Embedder, InputKind } from '../../models/types.js';
import type { RequestContext } from '../types.js';
import type { StageRunner } from '../stage-runner.js';

/**
 * Embeds texts through the model runtime, behind a cache of recent vectors (memory, then Redis
 * when configured): repeated queries (dashboards, retries, popular questions) skip the model.
 */
export function createEmbedStage(deps: { cache: TieredCache<Float32Array>; runner: StageRunner }) {
  const { cache, runner } = deps;

  /** `input`: what the texts are (a model with prompts embeds each kind differently, so it is part of the cache key). */
  async function embedTexts(embedder: Embedder, texts: string[], ctx: RequestContext, signal: AbortSignal, input?: InputKind) {
    const kind = input ?? 'text';
    const keys = texts.map((text) => `${embedder.name}:${kind}:${keyDigest(text)}`);
    // One lookup per distinct text: a text twice in one call must not wait for its own flight.
    const unique = [...new Set(keys)];
    const found = new Map(unique.map((key, i) => [key, i]));
    const lookups = await Promise.all(unique.map((key) => cache.lookup(key, signal)));
    const vectors = new Map<string, Float32Array>();
    lookups.forEach((lookup, i) => lookup.hit && vectors.set(unique[i], lookup.value));
    const missing = unique.filter((key) => !vectors.has(key));
    const fill = (key: string, vector: Float32Array | undefined) => {
      const lookup = lookups[found.get(key) as number];
      if (!lookup.hit) lookup.fill(vector);
    };
    if (missing.length > 0) {
      let servedByFallback = false;
      try {
        const fresh = await embedder.embed(
          missing.map((key) => texts[keys.indexOf(key)]),
          {
            signal,
            input,
            deadlineAt: ctx.deadline.at,
            trace: ctx.trace,
            onFallback: (event) => {
              servedByFallback = true;
              runner.degrade(ctx, 'embed', event.reason, event.to);
            },
          },
        );
        missing.forEach((key, j) => {
          vectors.set(key, fresh[j]);
          // A fallback model's vectors live in another space: never cache them under this model's name.
          fill(key, servedByFallback ? undefined : fresh[j]);
        });
      } finally {
        for (const key of missing) fill(key, undefined);
      }
    }
    return keys.map((key) => vectors.get(key) as Float32Array);
  }

  return {
    embedTexts,
    /** The query vector, or null when embedding failed and the caller should go sparse-only. */
    async embedQuery(embedder: Embedder, query: string, ctx: RequestContext): Promise<Float32Array | null> {
      return runner.run(ctx, 'embed', async (signal) => (await embedTexts(embedder, [query], ctx, signal, 'query'))[0], {
        name: 'sparse',
        run: () => null,
      });
    },
  };
}

export type EmbedStage = ReturnType<typeof createEmbedStage>;
