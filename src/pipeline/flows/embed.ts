import { createStageRunner } from '../stage-runner.js';
import { createEmbedStage } from '../stages/embed.js';
import type { Pipeline } from '../types.js';
import { sanitize } from './common.js';
import type { FlowDeps } from './deps.js';

/** embed: sanitize -> embed (the vectors are the response). */
export function createEmbedFlow(deps: FlowDeps): Pick<Pipeline, 'embed'> {
  const runner = createStageRunner(deps.config, deps.metrics, deps.tracer, 'embed');
  const stage = createEmbedStage({ cache: deps.embeddingCache, runner });
  return {
    async embed(input, ctx) {
      const texts = await sanitize(deps, runner, ctx, input.texts);
      const embedder = deps.models.embedder(input.model ?? deps.config.pipeline.embedder);
      const vectors = await runner.run(ctx, 'embed', (signal) => stage.embedTexts(embedder, texts, ctx, signal));
      return { vectors, model: embedder.name, tokens: texts.reduce((sum, text) => sum + countTokens(text), 0) };
    },
  };
}

/** Whitespace-separated words: the usage figure for models without their own tokenizer. */
function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}
