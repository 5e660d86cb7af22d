import { readFileSync } from 'node:fs';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigProblem } from '../core/errors.js';
import { flowProblems, flowSchemaProblems } from './flow-checks.js';
import { ConfigSchema, LOG_LEVELS, type Config } from './schema.js';
import { variantConfig } from './variant-config.js';

export interface LoadOptions {
  /** YAML or JSON file; PRONTO_CONFIG names one when this is absent. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last: tests and CLI flags. */
  overrides?: DeepPartial<Config>;
}

export type DeepPartial<T> = T extends Array<infer _U>
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Loads file + env + overrides, fills defaults and validates: an error names the bad key. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.PRONTO_CONFIG;
  const fromFile = file ? readConfigFile(file) : {};
  const merged = deepMerge(deepMerge(fromFile, fromEnv(env)), options.overrides ?? {});
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(merged));
  // A bad flow step is named by its own kind's schema: the generic check only sees a failed union.
  const flowSchema = flowSchemaProblems((withDefaults as { flows?: unknown }).flows);
  const generic = schemaProblems(withDefaults).filter((p) => flowSchema.length === 0 || !p.key.startsWith('flows.'));
  const problems = [...unknownKeys(merged), ...generic, ...flowSchema];
  if (problems.length === 0) problems.push(...referenceProblems(withDefaults as Config));
  if (problems.length > 0) throw ConfigError.of(problems);
  return withDefaults as Config;
}

/** Schema violations, one per key (a union reports each branch it tried: the first says enough). */
function schemaProblems(value: unknown): ConfigProblem[] {
  const byKey = new Map<string, string>();
  for (const error of Value.Errors(ConfigSchema, value)) {
    const key = error.path.slice(1).replaceAll('/', '.');
    if (![...byKey.keys()].some((seen) => key === seen || key.startsWith(`${seen}.`))) byKey.set(key, describe(error));
  }
  return [...byKey].map(([key, message]) => ({ key, message }));
}

/** TypeBox says "Expected union value" for a bad enum: name the value and the allowed ones. */
function describe(error: ValueError): string {
  const allowed = (error.schema.anyOf as Array<{ const?: unknown }> | undefined)?.map((branch) => branch.const);
  if (allowed?.length && allowed.every((v) => v !== undefined)) return `${JSON.stringify(error.value)} is not one of ${allowed.join(', ')}`;
  return error.message;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('', `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('the file must hold an object');
    }
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError('', `cannot parse ${file}: ${(err as Error).message}`);
  }
}

/** The documented environment variables (DESIGN.md) mapped onto config keys. */
function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, Record<string, unknown> | unknown> = {};
  const server: Record<string, unknown> = {};
  const observability: Record<string, unknown> = {};
  if (env.PORT !== undefined && env.PORT !== '') {
    const port = Number(env.PORT);
    if (!Number.isInteger(port)) throw new ConfigError('server.port', `PORT is not a number: ${env.PORT}`);
    server.port = port;
  }
  if (env.PRONTO_HOST) server.host = env.PRONTO_HOST;
  if (env.PRONTO_DATA_DIR) out.data_dir = env.PRONTO_DATA_DIR;
  if (env.REDIS_URL) out.redis_url = env.REDIS_URL;
  if (env.LOG_LEVEL) {
    if (!(LOG_LEVELS as readonly string[]).includes(env.LOG_LEVEL)) {
      throw new ConfigError('observability.log_level', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${env.LOG_LEVEL}"`);
    }
    observability.log_level = env.LOG_LEVEL;
  }
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) observability.otlp_endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (env.PRONTO_CALLBACK_SECRET) out.jobs = { callbacks: { secret: env.PRONTO_CALLBACK_SECRET } };
  if (Object.keys(server).length) out.server = server;
  if (Object.keys(observability).length) out.observability = observability;
  return out;
}

function unknownKeys(value: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const known = Object.keys(ConfigSchema.properties);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) problems.push({ key, message: 'unknown key' });
  }
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    const section = value[key];
    const props = (schema as { properties?: Record<string, unknown> }).properties;
    if (!props || typeof section !== 'object' || section === null || Array.isArray(section)) continue;
    for (const sub of Object.keys(section)) {
      if (!(sub in props)) problems.push({ key: `${key}.${sub}`, message: 'unknown key' });
    }
  }
  return problems;
}

/** Model names the pipeline points at must exist, with the right role. */
function referenceProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const byName = new Map(config.models.map((m) => [m.name, m]));
  if (byName.size !== config.models.length) problems.push({ key: 'models', message: 'model names must be unique' });
  problems.push(...pipelineReferenceProblems(config.pipeline, byName, 'pipeline'));
  config.variants.forEach((variant, i) => {
    problems.push(...pipelineReferenceProblems(variantConfig(config, variant).pipeline, byName, `variants.${i}.pipeline`));
  });
  problems.push(...variantProblems(config.variants));
  problems.push(...flowProblems(config.flows, byName, config.pipeline.generator));
  config.models.forEach((model, i) => {
    if (model.fallback === undefined) return;
    const next = byName.get(model.fallback);
    if (!next) problems.push({ key: `models.${i}.fallback`, message: `no model named "${model.fallback}"` });
    else if (next.role !== model.role) problems.push({ key: `models.${i}.fallback`, message: `"${model.fallback}" is a ${next.role}, not a ${model.role}` });
  });
  return problems;
}

/** The models a pipeline (the base one or a variant's) names exist, each with the role it is used in. */
function pipelineReferenceProblems(pipeline: Config['pipeline'], byName: Map<string, Config['models'][number]>, prefix: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const want: Array<[string, string | undefined, string]> = [
    ['embedder', pipeline.embedder, 'embedder'],
    ['generator', pipeline.generator, 'generator'],
    ['fallback_generator', pipeline.fallback_generator, 'generator'],
    ['reranker', pipeline.reranker, 'reranker'],
  ];
  for (const [field, name, role] of want) {
    if (name === undefined) continue;
    const key = `${prefix}.${field}`;
    const model = byName.get(name);
    if (!model) problems.push({ key, message: `no model named "${name}" in models` });
    else if (model.role !== role) problems.push({ key, message: `model "${name}" is a ${model.role}, not a ${role}` });
  }
  return problems;
}

/** Variant names are unique, and a variant that is never taken out of rotation takes traffic. */
function variantProblems(variants: Config['variants']): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  variants.forEach((variant, i) => {
    if (seen.has(variant.name)) problems.push({ key: `variants.${i}.name`, message: `"${variant.name}" is named twice` });
    seen.add(variant.name);
  });
  // Canaries can be taken out of rotation: what is left must still take traffic.
  if (variants.length > 0 && !variants.some((v) => !v.canary && v.weight > 0)) {
    problems.push({ key: 'variants', message: 'needs a variant that is not a canary with a weight above 0 (traffic goes there when canaries are taken out)' });
  }
  return problems;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) continue;
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key] as Record<string, unknown>, value) : value;
  }
  return out;
}
