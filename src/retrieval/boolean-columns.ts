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

/** The Bool metadata columns a table written before this change still has. */
export function legacyBooleanColumns(schema: Schema): string[] {
  return schema.fields.filter((f) => metadataField(f.name) !== undefined && String(f.type) === 'Bool').map((f) => f.name);
}

/**
 * Rewrites each legacy Bool metadata column as TINYINT (LanceDB cannot cast Bool to Int8 in place):
 * a new column computed from the old, the old dropped, the new renamed. Run under the table's
 * write lock, before a write that could need a null in it.
 */
export async function migrateBooleanColumns(table: lancedb.Table, columns: string[]): Promise<void> {
  for (const column of columns) {
    const staging = `${column}_tinyint`;
    await table.addColumns([{ name: staging, valueSql: `CAST(${column} AS TINYINT)` }]);
    await table.dropColumns([column]);
    await table.alterColumns([{ path: staging, rename: column }]);
  }
}
