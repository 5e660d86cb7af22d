import { invalidInput } from '../core/errors.js';
import { isWellFormed } from './validate.js';

/**
 * Namespaces are opaque, tenant-scoped strings (`public/default`). Each maps to one LanceDB table
 * whose name is the hex of the namespace's UTF-8 bytes: reversible, collision-free, and made only
 * of characters every filesystem and LanceDB accept.
 */

const TABLE_PREFIX = 'ns_';
/** 100 bytes -> 203 characters of table name, under the usual 255-byte file-name limit. */
const MAX_NAMESPACE_BYTES = 100;

export function tableName(namespace: string): string {
  const bytes = Buffer.from(namespace, 'utf8');
  if (namespace.length === 0 || bytes.length > MAX_NAMESPACE_BYTES || !isWellFormed(namespace)) {
    throw invalidInput('namespace', `a namespace is 1 to ${MAX_NAMESPACE_BYTES} bytes of valid UTF-8`);
  }
  return TABLE_PREFIX + bytes.toString('hex');
}

/** The namespace a table holds, or undefined for tables that are not ours. */
export function namespaceOf(table: string): string | undefined {
  if (!table.startsWith(TABLE_PREFIX)) return undefined;
  const hex = table.slice(TABLE_PREFIX.length);
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex').toString('utf8');
}
