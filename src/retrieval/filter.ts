import { invalidInput } from '../core/errors.js';
import type { Chunk, Filter, FilterCondition, Metadata } from './types.js';

/**
 * Metadata filters: validated against the namespace's known fields, then compiled to a SQL `where`
 * that LanceDB applies inside the vector search (before top-k), and to a predicate that the sparse
 * index applies before its own top-k. Both give the same answer for the same filter.
 */

export type FieldType = 'string' | 'number' | 'boolean';

/** Fields every chunk has, filterable like metadata. */
const BUILTIN_COLUMNS: Record<string, { column: string; type: FieldType }> = {
  doc_id: { column: 'doc_id', type: 'string' },
  title: { column: 'title', type: 'string' },
};

const MAX_IN_VALUES = 1000;
const RANGE_KEYS = ['gt', 'gte', 'lt', 'lte'] as const;

/** The store column of a metadata field: `m_` + hex, so any key is a safe SQL identifier. */
export function metadataColumn(field: string): string {
  return 'm_' + Buffer.from(field, 'utf8').toString('hex');
}

export function metadataField(column: string): string | undefined {
  if (!/^m_(?:[0-9a-f]{2})+$/.test(column)) return undefined;
  return Buffer.from(column.slice(2), 'hex').toString('utf8');
}

/** The filterable type of a metadata value, or undefined for values kept but not filterable (null, arrays). */
export function fieldTypeOf(value: Metadata[string]): FieldType | undefined {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return undefined;
  }
}

type Scalar = string | number | boolean;

interface Clause {
  field: string;
  column: string;
  type: FieldType;
  condition: { eq: Scalar } | { in: Scalar[] } | { range: Partial<Record<(typeof RANGE_KEYS)[number], number>> };
}

export interface CompiledFilter {
  where: string;
  matches(chunk: Chunk): boolean;
}

/**
 * Checks `filter` against the known metadata field types (`field -> type`) and compiles it.
 * Throws ProntoError invalid_input naming `filter.<field>` on an unknown field, a wrong type or a
 * malformed condition. Returns undefined for an empty filter.
 */
export function compileFilter(filter: Filter | undefined, fields: ReadonlyMap<string, FieldType>): CompiledFilter | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw invalidInput('filter', 'filter must be an object');
  const clauses = Object.entries(filter).map(([field, condition]) => toClause(field, condition, fields));
  if (clauses.length === 0) return undefined;
  return {
    where: clauses.map(toSql).join(' AND '),
    matches: (chunk) => clauses.every((clause) => matchesClause(clause, chunk)),
  };
}

function toClause(field: string, condition: FilterCondition, fields: ReadonlyMap<string, FieldType>): Clause {
  const name = `filter.${field}`;
  const builtin = Object.hasOwn(BUILTIN_COLUMNS, field) ? BUILTIN_COLUMNS[field] : undefined;
  const type = builtin?.type ?? fields.get(field);
  if (type === undefined) throw invalidInput(name, `unknown filter field "${field}"`);
  const column = builtin?.column ?? metadataColumn(field);
  const checkScalar = (value: unknown): Scalar => {
    const ok = typeof value === type && (typeof value !== 'number' || Number.isFinite(value));
    if (!ok) throw invalidInput(name, `"${field}" holds ${type} values`);
    return value as Scalar;
  };
  if (typeof condition !== 'object' || condition === null) {
    return { field, column, type, condition: { eq: checkScalar(condition) } };
  }
  if (Array.isArray(condition)) throw invalidInput(name, 'use {"in": [...]} to match any of several values');
  const keys = Object.keys(condition);
  if (keys.length === 1 && keys[0] === 'in') {
    const values = (condition as { in: unknown }).in;
    if (!Array.isArray(values) || values.length === 0 || values.length > MAX_IN_VALUES) {
      throw invalidInput(name, `"in" takes 1 to ${MAX_IN_VALUES} values`);
    }
    return { field, column, type, condition: { in: values.map(checkScalar) } };
  }
  if (keys.length > 0 && keys.every((key) => (RANGE_KEYS as readonly string[]).includes(key))) {
    if (type !== 'number') throw invalidInput(name, `ranges apply to number fields; "${field}" holds ${type} values`);
    const range: Partial<Record<(typeof RANGE_KEYS)[number], number>> = {};
    for (const key of keys as Array<(typeof RANGE_KEYS)[number]>) {
      range[key] = checkScalar((condition as Record<string, unknown>)[key]) as number;
    }
    return { field, column, type, condition: { range } };
  }
  throw invalidInput(name, 'a condition is a value, {"in": [...]} or a range {gt, gte, lt, lte}');
}

/** A SQL literal: strings single-quoted with quotes doubled (standard SQL; backslashes are literal). */
function literal(value: Scalar): string {
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  return String(value);
}

const SQL_OPS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function toSql(clause: Clause): string {
  const { condition } = clause;
  // Booleans are stored as TINYINT, in older tables as Bool (boolean-columns.ts): the cast reads both.
  const column = clause.type === 'boolean' ? `CAST(${clause.column} AS BOOLEAN)` : clause.column;
  if ('eq' in condition) return `${column} = ${literal(condition.eq)}`;
  if ('in' in condition) return `${column} IN (${condition.in.map(literal).join(', ')})`;
  const parts = Object.entries(condition.range).map(
    ([op, value]) => `${column} ${SQL_OPS[op as keyof typeof SQL_OPS]} ${literal(value)}`,
  );
  return `(${parts.join(' AND ')})`;
}

function valueOf(chunk: Chunk, field: string): unknown {
  if (field === 'doc_id') return chunk.docId;
  if (field === 'title') return chunk.title;
  return Object.hasOwn(chunk.metadata, field) ? chunk.metadata[field] : undefined;
}

function matchesClause({ field, condition }: Clause, chunk: Chunk): boolean {
  const value = valueOf(chunk, field);
  if ('eq' in condition) return value === condition.eq;
  if ('in' in condition) return condition.in.includes(value as Scalar);
  if (typeof value !== 'number') return false;
  const { gt, gte, lt, lte } = condition.range;
  return (
    (gt === undefined || value > gt) &&
    (gte === undefined || value >= gte) &&
    (lt === undefined || value < lt) &&
    (lte === undefined || value <= lte)
  );
}
