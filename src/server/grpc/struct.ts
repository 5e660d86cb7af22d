import { MAX_JSON_DEPTH, nestedTooDeep } from '../plugins/json-body.js';

/**
 * google.protobuf.Struct and Value <-> plain JSON, as proto-loader spells them (protobufjs builds
 * the well-known types in camelCase whatever keepCase says: `stringValue`, `structValue`...). The
 * JSON API's free-form fields (filters, metadata, job input and result) travel as Structs.
 */
export interface ProtoValue {
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}

export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

/**
 * A Struct as plain JSON, refused past MAX_JSON_DEPTH levels as a JSON body is (`depth`: the
 * level the Struct itself is at; the request message is level 1).
 */
export function jsonFromStruct(struct: ProtoStruct, depth = 1): Record<string, unknown> {
  if (depth > MAX_JSON_DEPTH) throw nestedTooDeep();
  return Object.fromEntries(Object.entries(struct.fields ?? {}).map(([key, value]) => [key, jsonFromValue(value, depth + 1)]));
}

export function jsonFromValue(value: ProtoValue, depth = 1): unknown {
  if (value.structValue !== undefined) return jsonFromStruct(value.structValue, depth);
  if (value.listValue !== undefined) {
    if (depth > MAX_JSON_DEPTH) throw nestedTooDeep();
    return (value.listValue.values ?? []).map((item) => jsonFromValue(item, depth + 1));
  }
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.numberValue !== undefined) return value.numberValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return null;
}

export function structFromJson(object: Record<string, unknown>): ProtoStruct {
  return { fields: Object.fromEntries(Object.entries(object).flatMap(([key, value]) => (value === undefined ? [] : [[key, valueFromJson(value)]]))) };
}

export function valueFromJson(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(valueFromJson) } };
  if (typeof value === 'object') return { structValue: structFromJson(value as Record<string, unknown>) };
  return { stringValue: String(value) };
}
