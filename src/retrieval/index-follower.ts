import type { Logger } from 'pino';
import type { ChangeFeed, IndexChange } from './change-feed.js';
import type { LanceVectorStore } from './lance-store.js';
import type { Bm25Index } from './sparse.js';

export interface IndexFollowerOptions {
  store: LanceVectorStore;
  sparse: Bm25Index;
  feed: ChangeFeed;
  /** How often the store's table versions are compared with the mirrors' (0: never). */
  pollMs: number;
  logger: Logger;
}

/** Told after this replica's mirrors took in a change (its own write or another replica's). */
export type ChangeListener = (change: { namespace: string; version: number }) => void;

/**
 * Keeps this replica's in-memory indexes (the exact vector mirror and BM25) on the shared store's
 * latest version. A write here is announced on the change feed; another replica's announcement is
 * applied by re-reading just its documents. The poll is the fallback for what the feed misses (a
 * Redis outage, a process writing without Redis such as `pronto ingest`, an ANN index built
 * elsewhere): a namespace still behind on two polls in a row — one poll is the feed's grace — is
 * reloaded whole, and so is one another process created that this replica has not built yet. A
 * namespace this replica created is never behind for being new: its writes are all it holds.
 * Changes apply one at a time, so a document's later version never lands first.
 */
export class IndexFollower {
  private applying: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private polling = false;
  /** Namespaces the last poll found behind: still behind on the next one, they are reloaded. */
  private behind = new Set<string>();
  /** Namespaces whose BM25 index was built from the store (at start or by a reload) and kept since. */
  private readonly loaded = new Set<string>();
  private readonly listeners = new Set<ChangeListener>();
  /** The newest version of each namespace this replica's indexes are known to hold. */
  private readonly held = new Map<string, number>();

  constructor(private readonly options: IndexFollowerOptions) {}

  /** Builds the BM25 index of every namespace in the store, then follows changes. */
  async start(): Promise<void> {
    const started = performance.now();
    const namespaces = await this.options.store.namespaces();
    for (const namespace of namespaces) await this.loadAtVersion(namespace);
    this.options.logger.info(
      { namespaces: namespaces.length, ms: Math.round(performance.now() - started) },
      'built the BM25 index from the store',
    );
    await this.options.feed.subscribe((change) => void this.serialised(() => this.apply(change)));
    if (this.options.pollMs > 0) {
      this.timer = setInterval(() => void this.poll(), this.options.pollMs);
      this.timer.unref();
    }
  }

  /**
   * Announces this replica's committed write of `docIds`. A feed that cannot be reached (Redis
   * down) is logged, not thrown: the write stands and the other replicas' polls find it.
   */
  async announce(namespace: string, docIds: string[]): Promise<void> {
    try {
      const version = await this.options.feed.publish(namespace, docIds);
      this.notify(namespace, version);
    } catch (err) {
      this.options.logger.warn({ err, namespace }, 'could not announce an index change; other replicas will find it by polling');
    }
  }

  version(namespace: string): Promise<number | undefined> {
    return this.options.feed.version(namespace);
  }

  versionKey(namespace: string): string | undefined {
    return this.options.feed.versionKey(namespace);
  }

  /**
   * The newest version of the namespace this replica's indexes hold: at least what the version was
   * when they were built or last took in a change. 0 when unknown (never built while the version
   * could be read): a caller comparing it with `version()` then treats the replica as behind.
   */
  heldVersion(namespace: string): number {
    return this.held.get(namespace) ?? 0;
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One comparison of every namespace's table version with the mirrors (also run by the timer). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const { store } = this.options;
      const unseen = (await store.namespaces()).filter((namespace) => !this.built(namespace));
      const lagging = new Set([...(await store.laggingNamespaces()), ...unseen]);
      for (const namespace of lagging) {
        if (this.behind.has(namespace)) await this.serialised(() => this.reload(namespace, 'reloaded a namespace another process changed'));
      }
      this.behind = lagging;
    } catch (err) {
      this.options.logger.warn({ err }, 'index poll failed');
    } finally {
      this.polling = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.options.feed.close();
    await this.applying.catch(() => undefined);
  }

  private async apply(change: IndexChange): Promise<void> {
    // A namespace this replica has not built yet (another process created it): all of it, once.
    if (!this.built(change.namespace))
      return this.reload(change.namespace, 'read a namespace another process created, on its change message');
    const { store, sparse } = this.options;
    const chunks = await store.syncDocuments(change.namespace, change.docIds);
    const kept = new Set(chunks.map((chunk) => chunk.docId));
    for (const docId of change.docIds) if (!kept.has(docId)) await sparse.deleteDocument(change.namespace, docId);
    await sparse.upsert(change.namespace, chunks);
    this.notify(change.namespace, change.version);
  }

  /** Reads the namespace whole from its latest version; `why` is what the log says (the poll's reloads are the ones to watch). */
  private async reload(namespace: string, why: string): Promise<void> {
    const started = performance.now();
    // Read first: a write committed while the store and BM25 are re-read may be in or not.
    const version = await this.version(namespace);
    await this.options.store.reload(namespace);
    await this.load(namespace);
    this.behind.delete(namespace);
    this.options.logger.info({ namespace, ms: Math.round(performance.now() - started) }, why);
    if (version !== undefined) this.notify(namespace, version);
  }

  /**
   * Builds the namespace's BM25 index at start, holding the version read before it was: a write
   * committed after that read may or may not be in, so no later version is claimed.
   */
  private async loadAtVersion(namespace: string): Promise<void> {
    const version = await this.version(namespace);
    await this.load(namespace);
    if (version !== undefined) this.hold(namespace, version);
  }

  private hold(namespace: string, version: number): void {
    if (version > this.heldVersion(namespace)) this.held.set(namespace, version);
  }

  private async load(namespace: string): Promise<void> {
    await this.options.sparse.replaceNamespace(namespace, this.options.store.scan(namespace));
    this.loaded.add(namespace);
  }

  /**
   * This replica's BM25 holds all of the namespace: built from the store (at start or by a reload),
   * or the table was created here, so every write to it was made here or heard of and applied.
   */
  private built(namespace: string): boolean {
    return this.loaded.has(namespace) || this.options.store.createdHere(namespace);
  }

  private serialised(work: () => Promise<void>): Promise<void> {
    const next = this.applying
      .then(work)
      .catch((err) => this.options.logger.warn({ err }, 'applying an index change failed; the poll retries'));
    this.applying = next;
    return next;
  }

  private notify(namespace: string, version: number): void {
    this.hold(namespace, version);
    for (const listener of this.listeners) listener({ namespace, version });
  }
}
