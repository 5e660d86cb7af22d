import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Value } from '@sinclair/typebox/value';
import { ModelSchema, type ModelConfig } from '../../src/config/models.js';
import { createModelRuntime } from '../../src/models/create-runtime.js';
import { createMetrics } from '../../src/observability/metrics.js';

/** A model config with every default filled, as loadConfig would produce it. */
export function modelConfig(partial: Partial<ModelConfig> & Pick<ModelConfig, 'name' | 'role' | 'backend'>): ModelConfig {
  return Value.Default(ModelSchema, Value.Clone(partial)) as ModelConfig;
}

/** A started model runtime over the given models, with its metrics. */
export async function startRuntime(models: ModelConfig[]) {
  const metrics = createMetrics({ defaultMetrics: false });
  const runtime = createModelRuntime({ models }, { metrics, logger: pino({ level: 'silent' }) });
  await runtime.start();
  return { runtime, metrics };
}

export async function metric(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number> {
  const found = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = found?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(value?.value ?? 0);
}

export const never = () => new AbortController().signal;

export async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const piece of stream) out.push(piece);
  return out;
}

/** A file or directory in ../shared (beside the project root), or undefined when absent. */
export function sharedPath(relative: string): string | undefined {
  const path = fileURLToPath(new URL(`../../../shared/${relative}`, import.meta.url));
  return existsSync(path) ? path : undefined;
}
