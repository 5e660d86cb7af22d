import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } from 'apache-arrow';
import type { Logger } from 'pino';
import { raceAbort, throwIfAborted } from '../core/deadline.js';
import { invalidInput, ProntoError } from '../core/errors.js';
import { legacyBooleanColumns, migrateBooleanColumns, storedValue } from './boolean-columns.js';
import { ExactIndex } from './exact-index.js';
import { compileFilter, fieldTypeOf, metadataColumn, metadataField, type FieldType } from './filter.js';
import { namespaceOf, tableName } from './namespace.js';
import type { Chunk, Hit, Metadata, SearchOptions, VectorStore } from './types.js';
import type { WriteLease } from './writer-lease.js';

export interface AnnOptions {
  /** Build an ANN index once a namespace holds this many chunks; search is exact below that. */
  minRows: number;
  numPartitions?: number;
  numSubVectors?: number;
  nprobes: number;
  refineFactor: number;
}

export interface LanceStoreOptions {
  /** A directory, or an object-storage URI LanceDB opens (`s3://bucket/path`...). */
  dir: string;
  ann: AnnOptions;
  logger: Logger;
  /** Compact fragments (and drop old versions) after this many writes to a table. */
  optimizeEvery?: number;
  /**
   * The embedder (model name) this server embeds with. A table records the embedder that built it;
   * a namespace built by another one is refused (its vectors are not comparable with ours).
   */
  embedder?: string;
  /** Where several processes must not commit at once (docs/OPERATIONS.md), every commit holds it. */
  lease?: WriteLease;
  /** LanceDB's cache sizes (retrieval.lance_cache); unset: LanceDB's own defaults. */
  cache?: { indexBytes: number; metadataBytes: number };
}

/** The table (schema) metadata key holding the embedder that built a namespace. */
const EMBEDDER_KEY = 'pronto.embedder';

interface TableState {
  table: lancedb.Table;
  dimensions: number;
  /** Metadata field -> filterable type, from the table's `m_*` columns. */
  fields: Map<string, FieldType>;
  indexed: boolean;
  writesSinceOptimize: number;
  /** The embedder that built it (tables from before this was recorded: use-lite, the only one then). */
  embedder: string;
  /** The table version the in-memory mirrors (exact index here, BM25 outside) reflect. */
  syncedVersion: number;
  /** It still has Bool metadata columns (boolean-columns.ts): the next write migrates them first. */
  legacyBooleans: boolean;
}

/** Booleans are stored as TINYINT 0/1 (see boolean-columns.ts); Bool columns of older tables still read as boolean. */
const SQL_TYPE: Record<FieldType, string> = { string: 'STRING', number: 'DOUBLE', boolean: 'TINYINT' };
const ARROW_TYPE_TO_FIELD: Record<string, FieldType> = { Utf8: 'string', Float64: 'number', Int8: 'boolean', Bool: 'boolean' };
const CHUNK_COLUMNS = ['id', 'doc_id', 'idx', 'text', 'title', 'metadata'];
const RESULT_COLUMNS = [...CHUNK_COLUMNS, '_distance'];

/**
 * The vector store: LanceDB embedded in `dir`, one table per namespace. Rows are chunks with their
 * vector, text, title, metadata (as JSON, returned with hits) and one typed `m_<hex>` column per
 * scalar metadata field, so filters run inside the search as SQL. Vectors are L2-normalised and
 * searched by cosine distance: exact search below `ann.minRows` rows (on an in-memory mirror, see
 * ExactIndex), IVF-PQ with nprobes and refine above.
 * Writes to one table are serialised (LanceDB commits are optimistic; a queue avoids retries).
 *
 * Several processes may share the directory: each keeps its mirrors current through
 * `syncDocuments` (another replica's change, heard on the change feed) and `laggingNamespaces` +
 * `reload` (the poll that catches what the feed missed); see IndexFollower.
 */
export class LanceVectorStore implements VectorStore {
  private db?: lancedb.Connection;
  private session?: lancedb.Session;
  private readonly states = new Map<string, Promise<TableState | undefined>>();
  private readonly writeQueues = new Map<string, Promise<unknown>>();
  private readonly indexing = new Set<string>();
  /** The in-memory mirror that serves exact search until a namespace has its ANN index. */
  private readonly exact = new ExactIndex();
  /** Namespaces whose table this process created empty: each of their rows came through its own writes or the changes it applied. */
  private readonly created = new Set<string>();

  constructor(private readonly options: LanceStoreOptions) {}

  async open(): Promise<void> {
    const { cache } = this.options;
    // Bounded caches: with LanceDB's defaults each committed or checked-out version's metadata
    // stays cached, and a replica that follows a stream of writes grows without levelling off.
    this.session ??= cache && new lancedb.Session(BigInt(cache.indexBytes), BigInt(cache.metadataBytes));
    this.db ??= await lancedb.connect(this.options.dir, { session: this.session });
  }

  /** What LanceDB's caches hold now, in bytes (undefined with LanceDB's default session). */
  cacheBytes(): number | undefined {
    return this.session && Number(this.session.sizeBytes());
  }

  /** The open connection (its bounded caches): side tables such as the tuning table use it too. */
  connection(): lancedb.Connection {
    if (!this.db) throw new ProntoError('not_ready', 'the vector store is not open');
    return this.db;
  }

  async namespaces(): Promise<string[]> {
    const names = await this.connection().tableNames();
    return names.map(namespaceOf).filter((ns): ns is string => ns !== undefined);
  }

  /**
   * This process created the namespace's table (empty), so the writes it made and the changes it
   * applied since are all there is: nothing in it needs reading back from the store.
   */
  createdHere(namespace: string): boolean {
    return this.created.has(namespace);
  }

  async count(namespace: string): Promise<number> {
    const state = await this.state(namespace);
    return state ? state.table.countRows() : 0;
  }

  /** Filterable metadata fields of a namespace and their types (empty when it does not exist). */
  async fieldTypes(namespace: string): Promise<ReadonlyMap<string, FieldType>> {
    return (await this.state(namespace))?.fields ?? new Map();
  }

  async upsert(namespace: string, chunks: Chunk[], vectors: Float32Array[]): Promise<void> {
    if (chunks.length !== vectors.length) throw new Error('one vector per chunk');
    if (chunks.length === 0) return;
    await this.committing(namespace, async () => {
      const state = await this.stateForWrite(namespace, vectors[0].length);
      await this.addMissingColumns(state, chunks);
      const docIds = [...new Set(chunks.map((c) => c.docId))];
      // One commit: insert or replace each chunk, and delete the doc's chunks this version no longer has.
      await state.table
        .mergeInsert('id')
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .whenNotMatchedBySourceDelete({ where: `doc_id IN (${docIds.map(quote).join(', ')})` })
        .execute(chunks.map((chunk, i) => toRow(chunk, vectors[i], state)));
      if (!state.indexed) this.exact.upsert(namespace, chunks, vectors);
      await this.afterWrite(namespace, state);
    });
  }

  async deleteDocument(namespace: string, docId: string): Promise<number> {
    return this.committing(namespace, async () => {
      const state = await this.state(namespace);
      if (!state) return 0;
      const predicate = `doc_id = ${quote(docId)}`;
      const n = await state.table.countRows(predicate);
      if (n > 0) {
        await state.table.delete(predicate);
        this.exact.deleteDocument(namespace, docId);
        await this.afterWrite(namespace, state);
      }
      return n;
    });
  }

  async search(vector: Float32Array, options: SearchOptions): Promise<Hit[]> {
    throwIfAborted(options.signal);
    const state = await this.state(options.namespace);
    if (!state) return [];
    this.checkEmbedder(options.namespace, state);
    const filter = compileFilter(options.filter, state.fields);
    if (vector.length !== state.dimensions) {
      throw invalidInput('namespace', `the namespace holds ${state.dimensions}-d vectors, the query is ${vector.length}-d`);
    }
    if (!state.indexed) return this.exact.search(options.namespace, vector, options.topK, filter);
    let query = state.table.vectorSearch(vector).distanceType('cosine').select(RESULT_COLUMNS).limit(options.topK);
    if (filter) query = query.where(filter.where);
    query = query.nprobes(this.options.ann.nprobes).refineFactor(this.options.ann.refineFactor);
    const rows = await raceAbort(query.toArray(), options.signal);
    return rows.map(toHit);
  }

  /** One document's chunks, read from the table (the mirrors may not hold it: the ANN path drops them). */
  async getDocument(namespace: string, docId: string, signal: AbortSignal): Promise<Chunk[]> {
    throwIfAborted(signal);
    const state = await this.state(namespace);
    if (!state) return [];
    const rows = await raceAbort(state.table.query().where(`doc_id = ${quote(docId)}`).select(CHUNK_COLUMNS).toArray(), signal);
    return rows.map((row: Record<string, unknown>) => toChunk(row)).sort((a: Chunk, b: Chunk) => a.index - b.index);
  }

  /**
   * Every chunk of a namespace without vectors, in batches: the sparse index rebuilds from it.
   * Below the ANN threshold the exact mirror holds every chunk of the version it reflects, and they
   * come from there: a replica taking in a namespace another process created has just read the
   * table to fill the mirror, and a second read was half of that cost (870 of 1,881 ms at load 18).
   */
  async *scan(namespace: string, batchSize = 10_000): AsyncGenerator<Chunk[]> {
    const state = await this.state(namespace);
    if (!state) return;
    if (!state.indexed) {
      const chunks = this.exact.chunks(namespace);
      for (let i = 0; i < chunks.length; i += batchSize) yield chunks.slice(i, i + batchSize);
      return;
    }
    for await (const batch of state.table.query().select(CHUNK_COLUMNS)) {
      const rows = batch.toArray().map((row: Record<string, unknown>) => toChunk(row));
      for (let i = 0; i < rows.length; i += batchSize) yield rows.slice(i, i + batchSize);
    }
  }

  /** Every chunk of a namespace with its vector, in the store's batches (adapter training reads them). */
  async *scanVectors(namespace: string): AsyncGenerator<Array<{ chunk: Chunk; vector: Float32Array }>> {
    const state = await this.state(namespace);
    if (!state) return;
    this.checkEmbedder(namespace, state);
    yield* rowsWithVectors(state.table);
  }

  /** How a namespace is searched now: `exact` (in memory), `building` (its ANN index) or `ann`. */
  async searchMethod(namespace: string): Promise<'exact' | 'building' | 'ann'> {
    if (this.indexing.has(namespace)) return 'building';
    return (await this.state(namespace))?.indexed ? 'ann' : 'exact';
  }

  /** Builds the ANN index now (benchmarks; normally it builds itself once `ann.minRows` is reached). */
  async buildIndex(namespace: string): Promise<void> {
    const state = await this.state(namespace);
    if (!state) return;
    const rows = await state.table.countRows();
    const { numPartitions, numSubVectors } = this.options.ann;
    const config = lancedb.Index.ivfPq({
      distanceType: 'cosine',
      // ~2,048 rows per partition: k-means training cost grows with partitions x sample, and
      // sqrt(rows) partitions took minutes per 100k rows on 2 cores; sub-vectors of 8 dimensions.
      numPartitions: numPartitions ?? Math.max(1, Math.round(rows / 2048)),
      numSubVectors: numSubVectors ?? Math.max(1, Math.floor(state.dimensions / 8)),
    });
    await this.leased(() => state.table.createIndex('vector', { replace: true, config }));
    state.indexed = true;
    this.exact.drop(namespace);
    state.syncedVersion = await state.table.version();
  }

  /**
   * Brings the mirrors up to another process's write of `docIds`: re-reads those documents' rows
   * from the latest table version (none left: deleted). Returns their chunks for the BM25 index.
   */
  async syncDocuments(namespace: string, docIds: string[]): Promise<Chunk[]> {
    return this.serialised(namespace, async () => {
      const state = await this.state(namespace);
      if (!state || docIds.length === 0) return [];
      await state.table.checkoutLatest();
      const version = await state.table.version();
      state.fields = fieldsOf(await state.table.schema());
      const rows: Array<{ chunk: Chunk; vector: Float32Array }> = [];
      for await (const batch of rowsWithVectors(state.table, `doc_id IN (${docIds.map(quote).join(', ')})`)) rows.push(...batch);
      if (!state.indexed) {
        for (const docId of docIds) this.exact.deleteDocument(namespace, docId);
        this.exact.upsert(
          namespace,
          rows.map((row) => row.chunk),
          rows.map((row) => row.vector),
        );
      }
      state.syncedVersion = Math.max(state.syncedVersion, version);
      return rows.map((row) => row.chunk);
    });
  }

  /** Open namespaces whose latest table version is past what the mirrors reflect: a change this process has not applied. */
  async laggingNamespaces(): Promise<string[]> {
    const lagging: string[] = [];
    for (const namespace of this.states.keys()) {
      const behind = await this.serialised(namespace, async () => {
        const state = await this.state(namespace);
        if (!state) return false;
        await state.table.checkoutLatest();
        return (await state.table.version()) > state.syncedVersion;
      });
      if (behind) lagging.push(namespace);
    }
    return lagging;
  }

  /** Opens a namespace afresh from its latest version: the mirrors are rebuilt, the ANN state re-read. */
  async reload(namespace: string): Promise<void> {
    await this.serialised(namespace, async () => {
      const previous = await this.states.get(namespace)?.catch(() => undefined);
      // Searches from here on wait for the fresh state, never a half-loaded mirror.
      this.states.delete(namespace);
      this.exact.drop(namespace);
      await this.state(namespace);
      previous?.table.close();
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.writeQueues.values()]);
    for (const pending of this.states.values()) (await pending.catch(() => undefined))?.table.close();
    this.states.clear();
    this.created.clear();
    this.exact.clear();
    this.db?.close();
    this.db = undefined;
  }

  private state(namespace: string): Promise<TableState | undefined> {
    const name = tableName(namespace);
    let pending = this.states.get(namespace);
    if (!pending) {
      pending = this.openState(namespace, name);
      this.states.set(namespace, pending);
      // A table that does not exist yet may be created later: do not cache its absence.
      pending.then(
        (s) => s ?? this.states.delete(namespace),
        () => this.states.delete(namespace),
      );
    }
    return pending;
  }

  private async openState(namespace: string, name: string): Promise<TableState | undefined> {
    const db = this.connection();
    if (!(await db.tableNames()).includes(name)) return undefined;
    const table = await db.openTable(name);
    const schema = await table.schema();
    const builtBy = schema.metadata.get(EMBEDDER_KEY);
    const vectorType = schema.fields.find((f) => f.name === 'vector')?.type as FixedSizeList | undefined;
    const indices = await table.listIndices();
    const indexed = indices.some((index) => index.columns.includes('vector'));
    if (!indexed) {
      for await (const rows of rowsWithVectors(table)) {
        this.exact.upsert(
          namespace,
          rows.map((row) => row.chunk),
          rows.map((row) => row.vector),
        );
      }
    }
    return {
      table,
      dimensions: vectorType?.listSize ?? 0,
      fields: fieldsOf(schema),
      indexed,
      writesSinceOptimize: 0,
      embedder: builtBy ?? 'use-lite',
      syncedVersion: await table.version(),
      legacyBooleans: legacyBooleanColumns(schema).length > 0,
    };
  }

  /**
   * Vectors are only comparable with vectors of the same embedder: searching or writing a
   * namespace another embedder built is refused, with how to re-index it. (Its text still feeds
   * BM25, so nothing else breaks.)
   */
  private checkEmbedder(namespace: string, state: TableState): void {
    const ours = this.options.embedder;
    if (ours === undefined || state.embedder === ours) return;
    throw new ProntoError(
      'embedder_mismatch',
      `Namespace "${namespace}" was indexed by embedder "${state.embedder}", but this server embeds with "${ours}": ` +
        `their vectors cannot be compared. Re-index it with "${ours}" (delete its documents and ingest them again, ` +
        `or \`pronto ingest PATH --namespace ${namespace}\` into a fresh data_dir), or set pipeline.embedder back to "${state.embedder}".`,
      { field: 'namespace' },
    );
  }

  private async stateForWrite(namespace: string, dimensions: number): Promise<TableState> {
    const existing = await this.state(namespace);
    if (existing) {
      this.checkEmbedder(namespace, existing);
      if (existing.dimensions !== dimensions) {
        throw invalidInput('namespace', `the namespace holds ${existing.dimensions}-d vectors; this embedder gives ${dimensions}-d`);
      }
      if (existing.legacyBooleans) {
        // Another writer may have migrated them already: decide on the latest version.
        await existing.table.checkoutLatest();
        await migrateBooleanColumns(existing.table, legacyBooleanColumns(await existing.table.schema()));
        existing.legacyBooleans = false;
      }
      return existing;
    }
    const table = await this.connection().createEmptyTable(tableName(namespace), baseSchema(dimensions, this.options.embedder), {
      existOk: true,
    });
    if ((await table.version()) > 1) {
      // Another process created the table first and has committed to it since: open it as one
      // that existed (its rows into the mirror, its metadata columns), not as an empty table.
      table.close();
      return this.stateForWrite(namespace, dimensions);
    }
    this.created.add(namespace);
    const state: TableState = {
      table,
      dimensions,
      fields: new Map(),
      indexed: false,
      writesSinceOptimize: 0,
      embedder: this.options.embedder ?? 'use-lite',
      syncedVersion: await table.version(),
      legacyBooleans: false,
    };
    this.states.set(namespace, Promise.resolve(state));
    return state;
  }

  private async addMissingColumns(state: TableState, chunks: Chunk[]): Promise<void> {
    const added: Array<{ name: string; valueSql: string }> = [];
    for (const chunk of chunks) {
      for (const [field, value] of Object.entries(chunk.metadata)) {
        const type = fieldTypeOf(value);
        if (!type) continue;
        const known = state.fields.get(field);
        if (known === undefined) {
          state.fields.set(field, type);
          added.push({ name: metadataColumn(field), valueSql: `CAST(NULL AS ${SQL_TYPE[type]})` });
        } else if (known !== type) {
          throw invalidInput(`metadata.${field}`, `"${field}" holds ${known} values in this namespace`);
        }
      }
    }
    if (added.length > 0) await state.table.addColumns(added);
  }

  private async afterWrite(namespace: string, state: TableState): Promise<void> {
    state.writesSinceOptimize++;
    if (state.writesSinceOptimize >= (this.options.optimizeEvery ?? 50)) {
      // Many small commits leave many small fragments, which slows every scan: compact them.
      // The write has committed by now: a compaction that loses to another process's commit
      // (LanceDB refuses it as a retryable conflict) must not fail it; the next write tries again.
      try {
        await state.table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
        state.writesSinceOptimize = 0;
      } catch (err) {
        this.options.logger.warn({ err, namespace }, 'compacting the table failed; the next write tries again');
      }
    }
    if (!state.indexed && !this.indexing.has(namespace)) {
      const rows = await state.table.countRows();
      if (rows >= this.options.ann.minRows) this.buildIndexInBackground(namespace, rows);
    }
    state.syncedVersion = await state.table.version();
  }

  private buildIndexInBackground(namespace: string, rows: number): void {
    this.indexing.add(namespace);
    const started = performance.now();
    this.buildIndex(namespace)
      .then(() => this.options.logger.info({ namespace, rows, ms: Math.round(performance.now() - started) }, 'built the ANN index'))
      .catch((err) => this.options.logger.error({ err, namespace }, 'building the ANN index failed; search stays exact'))
      .finally(() => this.indexing.delete(namespace));
  }

  /** A write: one at a time per table here, and under the lease across processes where one is needed. */
  private committing<T>(namespace: string, work: () => Promise<T>): Promise<T> {
    return this.serialised(namespace, () => this.leased(work));
  }

  private leased<T>(work: () => Promise<T>): Promise<T> {
    return this.options.lease ? this.options.lease.hold(work) : work();
  }

  private serialised<T>(namespace: string, work: () => Promise<T>): Promise<T> {
    const previous = this.writeQueues.get(namespace) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    const tail = next.catch(() => undefined);
    this.writeQueues.set(namespace, tail);
    tail.then(() => {
      if (this.writeQueues.get(namespace) === tail) this.writeQueues.delete(namespace);
    });
    return next;
  }
}

/** The columns every namespace table starts with; metadata columns are added as fields appear. */
export function baseSchema(dimensions: number, embedder: string | undefined): Schema {
  return new Schema(
    [
      new Field('id', new Utf8(), false),
      new Field('doc_id', new Utf8(), false),
      new Field('idx', new Int32(), false),
      new Field('text', new Utf8(), false),
      new Field('title', new Utf8(), true),
      new Field('metadata', new Utf8(), false),
      new Field('vector', new FixedSizeList(dimensions, new Field('item', new Float32(), true)), false),
    ],
    new Map(embedder === undefined ? [] : [[EMBEDDER_KEY, embedder]]),
  );
}

function fieldsOf(schema: Schema): Map<string, FieldType> {
  const fields = new Map<string, FieldType>();
  for (const f of schema.fields) {
    const name = metadataField(f.name);
    const type = ARROW_TYPE_TO_FIELD[String(f.type)];
    if (name !== undefined && type) fields.set(name, type);
  }
  return fields;
}

/** A string as an SQL literal for LanceDB's `where`. */
export function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function toRow(chunk: Chunk, vector: Float32Array, state: TableState): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: chunk.id,
    doc_id: chunk.docId,
    idx: chunk.index,
    text: chunk.text,
    title: chunk.title ?? null,
    metadata: JSON.stringify(chunk.metadata),
    vector: Array.from(vector),
  };
  // Every metadata column gets a value (null when this chunk lacks the field) so rows match the schema.
  for (const field of state.fields.keys()) {
    const value = chunk.metadata[field];
    row[metadataColumn(field)] = fieldTypeOf(value) === state.fields.get(field) ? storedValue(value) : null;
  }
  return row;
}

async function* rowsWithVectors(table: lancedb.Table, where?: string): AsyncGenerator<Array<{ chunk: Chunk; vector: Float32Array }>> {
  const query = table.query().select([...CHUNK_COLUMNS, 'vector']);
  for await (const batch of where === undefined ? query : query.where(where)) {
    yield (batch.toArray() as Array<Record<string, unknown>>).map((row) => ({
      chunk: toChunk(row),
      vector: Float32Array.from(row.vector as Iterable<number>),
    }));
  }
}

function toChunk(row: Record<string, unknown>): Chunk {
  return {
    id: row.id as string,
    docId: row.doc_id as string,
    index: row.idx as number,
    text: row.text as string,
    title: (row.title as string | null) ?? undefined,
    metadata: JSON.parse(row.metadata as string) as Metadata,
  };
}

function toHit(row: Record<string, unknown>): Hit {
  const { index: _index, ...chunk } = toChunk(row);
  return { ...chunk, score: 1 - (row._distance as number) };
}
