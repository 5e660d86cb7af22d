import type { Logger } from 'pino';
import type { ModelConfig } from '../config/models.js';
import type { Model, ModelLifecycle } from './types.js';

/*
 * The backend contract: what every backend builds and what it is given. Backends and the
 * registry both import this file, so the registry (which imports every backend lazily) and the
 * backends never import each other.
 */

/** What a backend factory builds: a model of the configured role with a lifecycle. */
export type BackendModel = Model & ModelLifecycle;

export interface BackendContext {
  logger: Logger;
  /**
   * Another model of the same runtime, wrapped in its batcher, once it is loaded and warmed (for
   * composite backends such as embedder-rerank). Rejects when no such model is configured.
   */
  model(name: string): Promise<Model>;
  /** The server's data directory, for backends that cache derived files (the static embedder). */
  dataDir?: string;
}

export type BackendFactory = (config: ModelConfig, context: BackendContext) => BackendModel | Promise<BackendModel>;
