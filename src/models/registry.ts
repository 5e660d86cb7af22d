import type { Logger } from 'pino';
import type { ModelConfig } from '../config/models.js';
import type { Model, ModelLifecycle } from './types.js';

/** What a backend factory builds: a model of the configured role with a lifecycle. */
export type BackendModel = Model & ModelLifecycle;

export interface BackendContext {
  logger: Logger;
  /**
   * Another model of the same runtime, wrapped in its batcher, once it is loaded and warmed (for
   * composite backends such as embedder-rerank). Rejects when no such model is configured.
   */
  model(name: string): Promise<Model>;
}

export type BackendFactory = (config: ModelConfig, context: BackendContext) => BackendModel | Promise<BackendModel>;

/**
 * Backend name -> factory. Each factory imports its backend module on first use, so a process
 * that never configures `llama` or `onnx` never loads node-llama-cpp or onnxruntime.
 */
export function createBackendRegistry(extra: Record<string, BackendFactory> = {}): Map<string, BackendFactory> {
  const builtIn: Record<string, BackendFactory> = {
    'use-lite': async (config) => new (await import('./backends/use-lite.js')).UseLiteEmbedder(config.name),
    extractive: async (config) => (await import('./backends/extractive.js')).createExtractive(config),
    sim: async (config) => (await import('./backends/sim.js')).createSim(config),
    onnx: async (config) => (await import('./backends/onnx.js')).createOnnx(config),
    llama: async (config, context) => (await import('./backends/llama.js')).createLlama(config, context),
    openai: async (config) => (await import('./backends/openai.js')).createOpenAi(config),
    'embedder-rerank': async (config, context) => (await import('./backends/embedder-rerank-factory.js')).createEmbedderRerank(config, context),
  };
  return new Map(Object.entries({ ...builtIn, ...extra }));
}
