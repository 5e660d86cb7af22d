import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { deferred } from '../core/deferred.js';
import { ConfigError, ProntoError } from '../core/errors.js';
import { modelKey } from './options.js';
import type { Metrics } from '../observability/metrics.js';
import { runsInPool, type ModelConfig } from '../config/models.js';
import type { BackendFactory, BackendModel } from './backend.js';
import { createBackendRegistry } from './registry.js';
import type { ModelRuntime } from './runtime.js';
import { ServedEmbedder, ServedGenerator, ServedReranker, type ServedModel } from './served.js';
import type { Embedder, Generator, Model, ModelRole, Reranker } from './types.js';
import { warmUp, type BatchTiming } from './warmup.js';
import { createPooledBackend, poolThreads } from './worker-pool.js';

export interface ModelRuntimeDeps {
  metrics: Metrics;
  logger: Logger;
  /** Where model batch spans go (none: no batch spans). */
  tracer?: Tracer;
  /** Extra or replacement backends (tests, plugins): backend name -> factory. */
  backends?: Record<string, BackendFactory>;
}

/**
 * Builds every model in `config.models` through the backend registry, each wrapped in its
 * batchers, admission control and fallback chain. Nothing loads until `start()`, which loads and
 * warms every instance of every model (in parallel across models) and then reports ready.
 * (A closure over the served models and their start promises; each method is short.)
 */
export function createModelRuntime(config: { models: ModelConfig[]; data_dir?: string }, deps: ModelRuntimeDeps): ModelRuntime {
  const registry = createBackendRegistry(deps.backends);
  checkChains(config.models, registry);
  const served = new Map<string, ServedModel>();
  const started = new Map(config.models.map((m) => [m.name, deferred<Model>()]));
  const loaded: BackendModel[] = [];
  let ready = false;

  for (const model of config.models) {
    const servedDeps = {
      metrics: deps.metrics,
      tracer: deps.tracer,
      next: () => (model.fallback === undefined ? undefined : served.get(model.fallback)),
    };
    const wrapper =
      model.role === 'embedder'
        ? new ServedEmbedder(withPoolConcurrency(model), servedDeps)
        : model.role === 'reranker'
          ? new ServedReranker(model, servedDeps)
          : new ServedGenerator(model, servedDeps);
    served.set(model.name, wrapper);
    deps.metrics.modelReady.set({ model: model.name }, 0);
  }

  function byRole<T extends Model>(name: string, role: ModelRole): T {
    const model = served.get(name);
    if (!model || model.role !== role) {
      throw new ProntoError('unknown_model', `There is no ${role} named "${name}"`, { field: 'model' });
    }
    return model as unknown as T;
  }

  async function startModel(model: ModelConfig): Promise<void> {
    const factory = runsInPool(model) ? createPooledBackend : registry.get(model.backend)!;
    const startedAt = performance.now();
    const context = {
      logger: deps.logger.child({ model: model.name }),
      dataDir: config.data_dir,
      model: (name: string) => started.get(name)?.promise ?? Promise.reject(new ConfigError(modelKey(model), `needs model "${name}", which is not configured`)),
    };
    const instances = await Promise.all(
      Array.from({ length: model.batching.instances }, async () => {
        const instance = await factory(model, context);
        loaded.push(instance);
        if (instance.role !== model.role) throw new ConfigError(`${modelKey(model)}.role`, `backend ${model.backend} built a ${instance.role}, not a ${model.role}`);
        await instance.load();
        return instance;
      }),
    );
    const loadMs = performance.now() - startedAt;
    const timings: BatchTiming[] = [];
    for (const instance of instances) timings.push(...(await warmUp(instance, model.warmup.batch_sizes)));
    const wrapper = served.get(model.name)!;
    // The role was checked above; each wrapper takes backends of its own role.
    (wrapper.attach as (backends: Model[], timings: BatchTiming[]) => void)(instances, timings);
    deps.metrics.modelReady.set({ model: model.name }, 1);
    started.get(model.name)!.resolve(wrapper);
    deps.logger.info(
      {
        model: model.name,
        backend: model.backend,
        instances: instances.length,
        load_ms: Math.round(loadMs),
        warmup_ms: Math.round(performance.now() - startedAt - loadMs),
        warmup_batch_sizes: model.warmup.batch_sizes,
      },
      'model loaded and warmed',
    );
  }

  return {
    list: () => config.models.map((m) => ({ name: m.name, role: m.role, backend: m.backend })),
    has: (name) => served.has(name),
    embedder: (name) => byRole<Embedder>(name, 'embedder'),
    reranker: (name) => byRole<Reranker>(name, 'reranker'),
    generator: (name) => byRole<Generator>(name, 'generator'),
    get ready() {
      return ready;
    },
    async start() {
      await Promise.all(
        config.models.map((model) =>
          startModel(model).catch((err: unknown) => {
            started.get(model.name)!.reject(err);
            throw err;
          }),
        ),
      );
      ready = true;
    },
    async close() {
      ready = false;
      for (const model of served.values()) model.close();
      await Promise.allSettled(loaded.map((instance) => instance.close()));
      for (const model of config.models) deps.metrics.modelReady.set({ model: model.name }, 0);
    },
  };
}

/** A pooled model runs one batch per thread at once (at least what its batching asks for). */
function withPoolConcurrency(model: ModelConfig): ModelConfig {
  if (!runsInPool(model)) return model;
  const concurrent = Math.max(model.batching.max_concurrent_batches, poolThreads(model));
  return { ...model, batching: { ...model.batching, max_concurrent_batches: concurrent } };
}

/** Every backend must exist and every fallback chain must end (a cycle would retry forever). */
function checkChains(models: ModelConfig[], registry: Map<string, BackendFactory>): void {
  const byName = new Map(models.map((m) => [m.name, m]));
  for (const model of models) {
    if (!registry.has(model.backend)) throw new ConfigError(`${modelKey(model)}.backend`, `backend "${model.backend}" is not available`);
    const seen = new Set([model.name]);
    for (let next = model.fallback; next !== undefined; next = byName.get(next)?.fallback) {
      const target = byName.get(next);
      if (!target) throw new ConfigError(`${modelKey(model)}.fallback`, `fallback "${next}" does not exist`);
      if (target.role !== model.role) throw new ConfigError(`${modelKey(model)}.fallback`, `fallback "${next}" is a ${target.role}, not a ${model.role}`);
      if (seen.has(next)) throw new ConfigError(`${modelKey(model)}.fallback`, `fallback chain loops back to "${next}"`);
      seen.add(next);
    }
  }
}
