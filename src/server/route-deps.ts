import type { Config } from '../config/schema.js';
import type { Pipeline } from '../pipeline/types.js';

/**
 * What the routes that run a flow (answers, chat, search, embeddings, documents) are given: the
 * pipeline and the config for request defaults, never the whole Runtime. Routes with other needs
 * declare their own deps next to them (jobs, feedback, health).
 */
export interface PipelineRouteDeps {
  pipeline: Pipeline;
  config: Config;
}
