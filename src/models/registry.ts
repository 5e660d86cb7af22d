import type { BackendFactory } from './backend.js';

/**
 * Backend name -> factory. Each factory imports its backend module on first use, so a process
 * that never configures `llama` or `onnx` never loads node-llama-cpp or onnxruntime.
 */
export function createBackendRegistry(extra: Record<string, BackendFactory> = {}): Map<string, BackendFactory> {
  const builtIn: Record<string, BackendFactory> = {
    'use-lite': async (config) => new (await import('./backends/use-lite.js')).UseLiteEmbedder(config.name),
    static: async (config, context) => (await import('./backends/static.js')).createStatic(config, context),
    extractive: async (config) => (await import('./backends/extractive.js')).createExtractive(config),
    sim: async (config) => (await import('./backends/sim.js')).createSim(config),
    onnx: async (config) => (await import('./backends/onnx.js')).createOnnx(config),
    llama: async (config, context) => (await import('./backends/llama.js')).createLlama(config, context),
    openai: async (config) => (await import('./backends/openai.js')).createOpenAi(config),
    'embedder-rerank': async (config, context) => (await import('./backends/embedder-rerank-factory.js')).createEmbedderRerank(config, context),
  };
  return new Map(Object.entries({ ...builtIn, ...extra }));
}
