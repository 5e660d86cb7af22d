import * as lancedb from '@lancedb/lancedb';
import { Field, Int32, Schema, Utf8 } from 'apache-arrow';
import type { Logger } from 'pino';
import type { Embedder } from '../../models/types.js';
import type { AgreementGate, FusionWeights } from '../fusion.js';
import { quote } from '../lance-store.js';
import { QueryAdapter } from '../query-adapter.js';
import type { WriteLease } from '../writer-lease.js';

/** Weighted fusion fitted to one namespace: used instead of `retrieval.weights` / `retrieval.agreement` for it. */
export interface FusionTuning {
  weights: FusionWeights;
  /** Undefined: the dense weight is used as it is (the gate off). */
  agreement?: AgreementGate;
}

/** What a fit produces; the store adds the namespace, version and time. */
export interface TuningFit {
  fusion: FusionTuning;
  /** A query adapter for this namespace, used instead of `retrieval.query_adapter`. */
  adapter?: QueryAdapter;
  /** Documents in the namespace when it was fitted (the fit at ingest refits after it grows). */
  documents: number;
  /** How it was fitted: the embedder, the pseudo-query scores, who asked. */
  report: Record<string, unknown>;
}

/** How a namespace is fitted (tuning/fit-namespace.ts). */
export interface FitOptions {
  embedder: Embedder;
  pseudoQueries: number;
  /**
   * `pseudo-queries`: also train a query adapter on the pseudo-queries (docs/BENCHMARKS.md: on
   * SciFact it hurt); a QueryAdapter: keep that one (from `pronto train-adapter`) with the namespace.
   */
  adapter?: 'pseudo-queries' | QueryAdapter;
  signal: AbortSignal;
  /** Who asked, for the record's report. */
  by: string;
}

export interface NamespaceTuning extends TuningFit {
  namespace: string;
  /** 1 for the first fit of the namespace, one more for each later one. */
  version: number;
  fittedAt: string;
}

export interface TuningStoreOptions {
  /** The vector store's connection to the index (open once the store is). */
  connection: () => lancedb.Connection;
  /** Where commits need the single-writer lease, tuning commits hold it too. */
  lease?: WriteLease;
  /** A replica re-reads the tuning table when it is older than this (`retrieval.follow.poll_ms`; 0: only on a change message). */
  refreshMs: number;
  logger: Logger;
  /** Told after a save or reset commits (the facade announces it: result caches and other replicas hear of it). */
  onChanged: (namespace: string) => Promise<void>;
}

/** One table for every namespace's tuning, beside the namespaces' tables (theirs start `ns_`, so it is never taken for one). */
const TABLE = 'pronto_tuning';
const SCHEMA = new Schema([
  new Field('namespace', new Utf8(), false),
  new Field('version', new Int32(), false),
  new Field('fitted_at', new Utf8(), false),
  /** JSON: fusion, documents, report. */
  new Field('settings', new Utf8(), false),
  /** The adapter file's text (QueryAdapter.serialize), or null. */
  new Field('adapter', new Utf8(), true),
]);

interface Entry {
  value: Promise<NamespaceTuning | undefined>;
  stale: boolean;
}

/**
 * Each namespace's fitted search settings, stored in the index itself (a LanceDB table beside the
 * namespaces), so every replica sharing the index reads the same ones. Searches read them from
 * memory: a namespace's record is read once, then re-read in the background when it may have
 * changed — after a change message for the namespace (a save announces one), or when the table's
 * version moved on a check made at most every `refreshMs` (a save by a process without the change
 * feed, such as `pronto tune` beside a server without Redis). A search never waits on a re-read,
 * and a store that cannot be read serves the configured settings (logged), never a failed search.
 * Namespaces are tenant-scoped strings already, so the tuning is the tenant's own.
 */
export class TuningStore {
  private readonly entries = new Map<string, Entry>();
  private table?: lancedb.Table;
  private checkedAt = 0;
  private checking = false;
  private seenVersion = 0;

  constructor(private readonly options: TuningStoreOptions) {}

  /** The namespace's tuning, or undefined when it has none (search then uses the `retrieval` config). */
  get(namespace: string): Promise<NamespaceTuning | undefined> {
    this.checkInBackground();
    const entry = this.entries.get(namespace);
    if (!entry) {
      const fresh: Entry = { value: this.read(namespace), stale: false };
      this.entries.set(namespace, fresh);
      return fresh.value;
    }
    if (entry.stale) {
      entry.stale = false;
      // The old value serves until the new one is read.
      const next = this.read(namespace);
      next.then(() => this.entries.get(namespace) === entry && this.entries.set(namespace, { value: next, stale: false }));
    }
    return entry.value;
  }

  /** Its record may have changed (a change message): the next `get` re-reads it. */
  markStale(namespace: string): void {
    const entry = this.entries.get(namespace);
    if (entry) entry.stale = true;
  }

  /** Stores a new version of the namespace's tuning (older versions are dropped) and announces it. */
  async save(namespace: string, fit: TuningFit): Promise<NamespaceTuning> {
    const saved = await this.leased(async () => {
      const table = await this.openTable(true);
      await table!.checkoutLatest();
      const previous = await this.latestRow(table!, namespace);
      const tuning: NamespaceTuning = { ...fit, namespace, version: (previous?.version ?? 0) + 1, fittedAt: new Date().toISOString() };
      await table!.add([toRow(tuning)]);
      await table!.delete(`namespace = ${quote(namespace)} AND version < ${tuning.version}`);
      return tuning;
    });
    this.entries.set(namespace, { value: Promise.resolve(saved), stale: false });
    await this.options.onChanged(namespace);
    return saved;
  }

  /** Drops the namespace's tuning: search goes back to the `retrieval` config. True when it had one. */
  async reset(namespace: string): Promise<boolean> {
    const removed = await this.leased(async () => {
      const table = await this.openTable(false);
      if (!table) return 0;
      await table.checkoutLatest();
      const predicate = `namespace = ${quote(namespace)}`;
      const n = await table.countRows(predicate);
      if (n > 0) await table.delete(predicate);
      return n;
    });
    this.entries.set(namespace, { value: Promise.resolve(undefined), stale: false });
    if (removed > 0) await this.options.onChanged(namespace);
    return removed > 0;
  }

  async close(): Promise<void> {
    this.table?.close();
    this.table = undefined;
    this.entries.clear();
  }

  private async read(namespace: string): Promise<NamespaceTuning | undefined> {
    try {
      const table = await this.openTable(false);
      return table ? await this.latestRow(table, namespace) : undefined;
    } catch (err) {
      this.options.logger.warn({ err, namespace }, "cannot read the namespace's tuning; searching it with the configured settings");
      this.markStale(namespace);
      return undefined;
    }
  }

  private async latestRow(table: lancedb.Table, namespace: string): Promise<NamespaceTuning | undefined> {
    const rows = (await table
      .query()
      .where(`namespace = ${quote(namespace)}`)
      .toArray()) as Row[];
    // Two processes saving at once may both write the next version: the later fit wins.
    const latest = rows.sort((a, b) => b.version - a.version || b.fitted_at.localeCompare(a.fitted_at))[0];
    return latest && fromRow(latest);
  }

  /**
   * At most every `refreshMs`, one look at the table's latest version: when it moved, every
   * namespace read so far is re-read on its next search (the save was another process's).
   */
  private checkInBackground(): void {
    const now = performance.now();
    if (this.options.refreshMs === 0 || this.checking || now - this.checkedAt < this.options.refreshMs) return;
    this.checking = true;
    this.checkedAt = now;
    void (async () => {
      const table = await this.openTable(false);
      if (!table) return;
      await table.checkoutLatest();
      const version = await table.version();
      if (version !== this.seenVersion) {
        this.seenVersion = version;
        for (const namespace of this.entries.keys()) this.markStale(namespace);
      }
    })()
      .catch((err) => this.options.logger.warn({ err }, 'checking the tuning table failed'))
      .finally(() => (this.checking = false));
  }

  /** The table, created when `create` (a save) and absent; undefined while no namespace has been tuned. */
  private async openTable(create: boolean): Promise<lancedb.Table | undefined> {
    if (this.table) return this.table;
    const db = this.options.connection();
    if (!create && !(await db.tableNames()).includes(TABLE)) return undefined;
    const table = create ? await db.createEmptyTable(TABLE, SCHEMA, { existOk: true }) : await db.openTable(TABLE);
    // Another call may have opened it meanwhile: keep one handle.
    if (this.table) table.close();
    else this.table = table;
    return this.table;
  }

  private leased<T>(work: () => Promise<T>): Promise<T> {
    return this.options.lease ? this.options.lease.hold(work) : work();
  }
}

// A type, not an interface: LanceDB's `add` takes records with an index signature.
type Row = {
  namespace: string;
  version: number;
  fitted_at: string;
  settings: string;
  adapter: string | null;
};

function toRow(tuning: NamespaceTuning): Row {
  const { fusion, documents, report } = tuning;
  return {
    namespace: tuning.namespace,
    version: tuning.version,
    fitted_at: tuning.fittedAt,
    settings: JSON.stringify({ fusion, documents, report }),
    adapter: tuning.adapter?.serialize() ?? null,
  };
}

function fromRow(row: Row): NamespaceTuning {
  const settings = JSON.parse(row.settings) as Pick<TuningFit, 'fusion' | 'documents' | 'report'>;
  return {
    namespace: row.namespace,
    version: row.version,
    fittedAt: row.fitted_at,
    ...settings,
    adapter: row.adapter ? QueryAdapter.parse(row.adapter, `the tuning of ${row.namespace}`, 'namespace') : undefined,
  };
}
