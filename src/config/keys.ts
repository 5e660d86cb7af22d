import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigProblem } from '../core/errors.js';
import { ApiKeyRecordSchema, type ApiKeyRecord, type AuthConfig } from './auth.js';

const KeyFileSchema = Type.Array(ApiKeyRecordSchema);

/** Hex SHA-256 of a key: the only form in which pronto keeps one. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Every key the config names: `auth.keys`, the records of `auth.keys_file` (read now), and the
 * deprecated plain `auth.api_keys`, hashed here so no plain key is kept past loading. Throws a
 * ConfigError naming the bad entry (`auth.keys_file[2].sha256`), so a bad file is refused whole.
 */
export function loadKeyRecords(auth: AuthConfig): ApiKeyRecord[] {
  const plain = auth.api_keys.map((k, i) =>
    Value.Default(ApiKeyRecordSchema, { id: `api_keys.${i}`, sha256: hashKey(k.key), tenant: k.tenant }) as ApiKeyRecord,
  );
  const fromFile = auth.keys_file === undefined ? [] : readKeysFile(auth.keys_file);
  const records = [...auth.keys, ...fromFile, ...plain];
  const problems: ConfigProblem[] = [];
  const ids = new Set<string>();
  const hashes = new Set<string>();
  for (const record of records) {
    if (ids.has(record.id)) problems.push({ key: 'auth.keys', message: `key id "${record.id}" is used twice` });
    if (hashes.has(record.sha256)) problems.push({ key: 'auth.keys', message: `key "${record.id}" has the same sha256 as another key` });
    ids.add(record.id);
    hashes.add(record.sha256);
  }
  if (problems.length > 0) throw ConfigError.of(problems);
  return records;
}

function readKeysFile(file: string): ApiKeyRecord[] {
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError('auth.keys_file', `cannot read ${file}: ${(err as Error).message}`);
  }
  const records = Value.Default(KeyFileSchema, parsed ?? []);
  const first = Value.Errors(KeyFileSchema, records).First();
  if (first) {
    const where = first.path.replace(/^\/(\d+)/, '[$1]').replaceAll('/', '.');
    throw new ConfigError(`auth.keys_file${where}`, `${first.message} (in ${file})`);
  }
  return records as ApiKeyRecord[];
}

/** A new random key (256 bits, URL-safe) and its record, for `pronto keys create`. */
export function createKey(fields: Partial<ApiKeyRecord> & Pick<ApiKeyRecord, 'tenant'>): { key: string; record: ApiKeyRecord } {
  const key = `pk_${randomBytes(32).toString('base64url')}`;
  const { id = `${fields.tenant}-${randomBytes(3).toString('hex')}`, ...rest } = fields;
  const record = Value.Default(ApiKeyRecordSchema, { id, ...rest, sha256: hashKey(key) }) as ApiKeyRecord;
  const first = Value.Errors(ApiKeyRecordSchema, record).First();
  if (first) throw new ConfigError(`key${first.path.replaceAll('/', '.')}`, first.message);
  return { key, record };
}
