import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** One committed write to a namespace, as every replica hears of it. */
export interface IndexChange {
  /** The scoped namespace (`tenant/name`). */
  namespace: string;
  /** The namespace's version after this write: one counter per namespace, shared by every replica. */
  version: number;
  /** The documents written or deleted (a follower re-reads exactly these from the store). */
  docIds: string[];
  /** The process that wrote it (it has applied the change already). */
  origin: string;
}

/**
 * How replicas that share one index hear of each other's writes, and the namespace version the
 * caches key their answers by (/work/notes/coord.md: one notion of version for both).
 */
export interface ChangeFeed {
  readonly origin: string;
  /** Bumps the namespace's version after a committed write and tells the other replicas. */
  publish(namespace: string, docIds: string[]): Promise<number>;
  /**
   * The namespace's current version (0 before its first write); `undefined` while it cannot be
   * read (Redis down): another replica's write could then not be seen, so nothing may rely on it.
   */
  version(namespace: string): Promise<number | undefined>;
  /**
   * The Redis key the namespace's version is kept under (an integer, absent before the first
   * write), for a reader that reads it in the same command as what depends on it (the results
   * cache); `undefined` when the version is not in Redis.
   */
  versionKey(namespace: string): string | undefined;
  /** Calls `listener` with every other replica's change, from now until `close()`. */
  subscribe(listener: (change: IndexChange) => void): Promise<void>;
  close(): Promise<void>;
}

/** One process and no Redis: the version is a counter in memory and no other replica listens. */
export class LocalChangeFeed implements ChangeFeed {
  readonly origin = randomUUID();
  private readonly versions = new Map<string, number>();

  async publish(namespace: string): Promise<number> {
    const version = (this.versions.get(namespace) ?? 0) + 1;
    this.versions.set(namespace, version);
    return version;
  }

  async version(namespace: string): Promise<number> {
    return this.versions.get(namespace) ?? 0;
  }

  versionKey(): undefined {
    return undefined;
  }

  async subscribe(): Promise<void> {}

  async close(): Promise<void> {}
}

export interface RedisChangeFeedOptions {
  /** The deployment's key prefix (`jobs.prefix`), so two deployments on one Redis stay apart. */
  prefix: string;
  /** A Redis command slower than this fails: a write never waits on a Redis outage for long. */
  timeoutMs: number;
  logger: Logger;
}

/**
 * The feed on Redis: `INCR <prefix>:pronto:index-version:<namespace>` then PUBLISH of the change
 * on `<prefix>:pronto:index-changes`. Pub/sub delivers at most once and not while a replica is
 * disconnected; replicas also poll the store's table versions (IndexFollower), so a lost message
 * costs a delay of a poll or two, never a missed write.
 */
export class RedisChangeFeed implements ChangeFeed {
  readonly origin = randomUUID();
  private readonly client: Redis;
  private subscriber?: Redis;
  private readonly channel: string;

  constructor(
    redis: Redis,
    private readonly options: RedisChangeFeedOptions,
  ) {
    // Its own connection: fails fast (no offline queue) where the shared one waits out an outage.
    this.client = redis.duplicate({ commandTimeout: options.timeoutMs, enableOfflineQueue: false, lazyConnect: true });
    this.client.on('error', () => undefined); // outages are reported where a command fails
    this.channel = `${options.prefix}:pronto:index-changes`;
  }

  async publish(namespace: string, docIds: string[]): Promise<number> {
    const version = await this.client.incr(this.versionKey(namespace));
    const change: IndexChange = { namespace, version, docIds, origin: this.origin };
    await this.client.publish(this.channel, JSON.stringify(change));
    return version;
  }

  async version(namespace: string): Promise<number | undefined> {
    try {
      // The connection is lazy: start-up reads the versions of the indexes it builds before it subscribes.
      if (this.client.status === 'wait') await this.client.connect();
      return Number((await this.client.get(this.versionKey(namespace))) ?? 0);
    } catch (err) {
      this.options.logger.debug({ err, namespace }, 'index version read failed');
      return undefined;
    }
  }

  async subscribe(listener: (change: IndexChange) => void): Promise<void> {
    // Connected already when start-up could read a version; otherwise this connects (or throws while Redis is down).
    if (this.client.status !== 'ready') await this.client.connect();
    // A subscribed connection can run nothing else; ioredis subscribes again after a reconnect.
    const subscriber = this.client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, message: string) => {
      const change = parseChange(message);
      if (!change) {
        this.options.logger.warn({ channel: this.channel }, 'ignored a malformed index change');
        return;
      }
      if (change.origin !== this.origin) listener(change);
    });
    await subscriber.subscribe(this.channel);
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    this.client.disconnect();
  }

  versionKey(namespace: string): string {
    return `${this.options.prefix}:pronto:index-version:${namespace}`;
  }
}

function parseChange(message: string): IndexChange | undefined {
  try {
    const change = JSON.parse(message) as Partial<IndexChange>;
    const valid =
      typeof change.namespace === 'string' &&
      typeof change.version === 'number' &&
      typeof change.origin === 'string' &&
      Array.isArray(change.docIds) &&
      change.docIds.every((id) => typeof id === 'string');
    return valid ? (change as IndexChange) : undefined;
  } catch {
    return undefined;
  }
}
