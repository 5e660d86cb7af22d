import type * as lancedb from '@lancedb/lancedb';
import type { Schema } from 'apache-arrow';
import { metadataField } from './filter.js';

/**
 * Boolean metadata is stored in TINYINT columns (1, 0, null), not Arrow's Bool. apache-arrow 18 (the
 * newest LanceDB 0.31 accepts) writes a Bool column whose values in a batch are all null with an
 * empty data buffer, which LanceDB's reader refuses ("Need at least 1 bytes for bitmap"; through
 * merge insert, "Spill has sent an error"): a namespace that once held a boolean field refused
 * every later document without it. Integer columns have no such case. Filters compare through
 * CAST(... AS BOOLEAN) (filter.ts), so tables written before keep working while they still hold Bool.
 */

/** A metadata value as its column stores it. */
export function storedValue(value: unknown): unknown {
  return typeof value === 'boolean' ? Number(value) : value;
}

/** Where a column's TINYINT copy is built; not a metadata column name (filter.ts), so reads never show it. */
const staging = (column: string) => `${column}_tinyint`;

/**
 * The metadata columns to migrate: Bool ones a table written before this change still has, and
 * any whose migration a crash left between its steps (only the staging copy is left).
 */
export function legacyBooleanColumns(schema: Schema): string[] {
  const names = new Set(schema.fields.map((f) => f.name));
  const bool = schema.fields.filter((f) => metadataField(f.name) !== undefined && String(f.type) === 'Bool').map((f) => f.name);
  const halfDone = schema.fields.map((f) => f.name.replace(/_tinyint$/, '')).filter((name) => metadataField(name) !== undefined && !names.has(name));
  return [...bool, ...halfDone];
}

/**
 * Rewrites each legacy Bool metadata column as TINYINT (LanceDB cannot cast Bool to Int8 in place):
 * a new column computed from the old, the old dropped, the new renamed. Each step is a commit of
 * its own, so a crash between two leaves a state this resumes from on the next write. Run under
 * the table's write lock, on the latest version, before a write that could need a null in it.
 */
export async function migrateBooleanColumns(table: lancedb.Table, columns: string[]): Promise<void> {
  const names = new Set((await table.schema()).fields.map((f) => f.name));
  for (const column of columns) {
    if (names.has(column)) {
      // A copy a crash left before the drop may be of an older version of the column: redo it.
      if (names.has(staging(column))) await table.dropColumns([staging(column)]);
      await table.addColumns([{ name: staging(column), valueSql: `CAST(${column} AS TINYINT)` }]);
      await table.dropColumns([column]);
    }
    await table.alterColumns([{ path: staging(column), rename: column }]);
  }
}
