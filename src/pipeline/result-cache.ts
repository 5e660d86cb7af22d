import { keyDigest, type TieredCache } from '../core/cache.js';
import type { Hit } from '../retrieval/types.js';
import { namespaceOf } from './context.js';
import type { SemanticIndex } from './semantic-index.js';
import type { RequestContext, WholeAnswer } from './types.js';

export interface CachedSearch {
  kind: 'search';
  /** The query as sanitized (the request log's input for a hit). */
  query: string;
  hits: Hit[];
}

export interface CachedAnswer extends WholeAnswer {
  kind: 'answer';
}

export type CachedResult = CachedSearch | CachedAnswer;

/** A request's place in the results cache: its cached result, or the slot its result fills. */
export interface ResultSlot<V extends CachedResult> {
  cached?: V;
  /** Stores the result (`undefined`: not cacheable, e.g. degraded). Call exactly once on a miss. */
  fill(value: V | undefined): void;
  /** Set on a miss whose result can be cached (the index version was known): where the semantic index keeps it. */
  scope?: string;
  key?: string;
  /** The index version the result is (to be) stored as built on. */
  version?: number;
}

export interface ResultCache {
  /**
   * The cached result of this request (by tenant, namespace, the variant and the normalised
   * request), if it was built on the namespace's current index version; records on `ctx.cache`
   * whether it was a hit. `request` is keyed by its JSON: the flow builds it in a fixed key order,
   * with any object the client shaped (a filter) passed through `sortedKeys`.
   */
  lookup<V extends CachedResult>(ctx: RequestContext, kind: V['kind'], namespace: string, request: unknown): Promise<ResultSlot<V>>;
  /** With the semantic cache on: the answer of an earlier question close to this one, in the slot's scope. */
  similar(ctx: RequestContext, slot: ResultSlot<CachedAnswer>, vector: Float32Array): Promise<CachedAnswer | undefined>;
  /** Adds an answered question to the semantic index (no-op when it is off). */
  remember(slot: ResultSlot<CachedAnswer>, vector: Float32Array, question: string): void;
  readonly semantic: boolean;
}

/**
 * The index versions results are built on: retrieval's (`indexVersion`, bumped by every committed
 * write on any replica before the write returns, so a write needs no invalidation of its own).
 */
export interface ResultVersions {
  /** The namespace's shared version; `undefined` when it cannot be known (Redis down). */
  indexVersion(scopedNamespace: string): Promise<number | undefined>;
  /**
   * The Redis key the shared version is kept under (on the Redis of the cache's tier), so a lookup
   * reads it and the cached value in one command; `undefined` when the version is not in Redis.
   */
  versionKey?(scopedNamespace: string): string | undefined;
  /** The version this replica's indexes hold: below the shared one, they lag another replica's write. */
  heldVersion(scopedNamespace: string): number;
}

export interface ResultCacheDeps {
  /** Undefined when `cache.results.enabled` is false. */
  cache?: TieredCache<CachedResult>;
  versions: ResultVersions;
  semantic?: SemanticIndex;
}

export function createResultCache({ cache, versions, semantic }: ResultCacheDeps): ResultCache {
  const uncached = { fill: () => undefined };

  return {
    semantic: semantic !== undefined && cache !== undefined,

    async lookup<V extends CachedResult>(ctx: RequestContext, kind: V['kind'], namespace: string, request: unknown): Promise<ResultSlot<V>> {
      if (!cache) return uncached;
      const scoped = namespaceOf(ctx, namespace);
      // The version is not in the key: the key holds one result, with the version it was built on,
      // and the current version is read at every lookup (in the same Redis command as the result
      // when the result is not in memory), so no replica serves a result older than a write.
      const key = keyDigest(JSON.stringify([kind, ctx.tenant, scoped, ctx.variant, request]));
      const found = await cache.lookupAt(key, { redisKey: versions.versionKey?.(scoped), read: () => versions.indexVersion(scoped) }, ctx.deadline);
      // Without the version (Redis unreachable) another replica's write could not be seen: no caching.
      if (!found) {
        ctx.cache = { hit: false };
        return uncached;
      }
      // The kind is part of the key: what is found under it is a V. A hit fills nothing, so it
      // needs no scope: a hit is the hot path, and the scope is for the slot a miss fills.
      if (found.hit) {
        ctx.cache = { hit: true, tier: found.tier };
        return { cached: found.value as V, fill: uncached.fill };
      }
      ctx.cache = { hit: false };
      const { version } = found;
      // A replica still taking in another's write computes from older documents than `version`
      // says: it answers, but does not store its result as built on that version (nor index it).
      if (versions.heldVersion(scoped) < version) {
        found.fill(undefined);
        return uncached;
      }
      const scope = JSON.stringify([ctx.tenant, scoped, version, ctx.variant]);
      return { fill: found.fill as (value: V | undefined) => void, scope, key, version };
    },

    async similar(ctx, slot, vector) {
      const version = slot.version;
      if (!semantic || !cache || !slot.scope || version === undefined) return undefined;
      const match = semantic.nearest(slot.scope, vector);
      // Its own key (its answer evicted, the question still indexed) is this request's flight: never wait for it.
      if (!match || match.key === slot.key) return undefined;
      // At the version this request read: the scope's questions were answered on it.
      const found = await cache.lookupAt(match.key, { read: async () => version }, ctx.deadline);
      if (!found?.hit) {
        // Gone from the cache (evicted, expired, or replaced by an answer on a newer version): this request answers it afresh.
        found?.fill(undefined);
        return undefined;
      }
      if (found.value.kind !== 'answer') return undefined;
      ctx.cache = { hit: true, tier: found.tier, question: found.value.question, similarity: Math.round(match.similarity * 1e4) / 1e4 };
      return found.value;
    },

    remember(slot, vector, question) {
      if (semantic && slot.scope && slot.key) semantic.add(slot.scope, vector, question, slot.key);
    },

  };
}

/**
 * What a flow's results depend on in its config (a variant's own, after a reload maybe another
 * under the same name), the redaction rules its inputs were sanitized by included: part of every
 * key, so a changed config never serves older results.
 */
export function configFingerprint(config: { pipeline: unknown; retrieval: unknown; answer: unknown; pii: unknown }): string {
  return keyDigest(JSON.stringify(sortedKeys([config.pipeline, config.retrieval, config.answer, config.pii])));
}

/** Whitespace runs as one space, ends trimmed: how texts are compared for the cache. */
export function normalisedText(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

/**
 * The value with its objects' keys sorted, so `{a, b}` and `{b, a}` filters make one key. By hand:
 * the value is a validated body of plain JSON values, and this is a few lines, not a dependency.
 * Only for what the client shaped: sorting a whole request at every lookup was most of a hit's
 * key cost (~3 KB of garbage per hit).
 */
export function sortedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortedKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]),
  ) as T;
}
