import { ProntoError } from '../../core/errors.js';
import type { ToolTurn } from '../../models/types.js';
import { createStageRunner } from '../stage-runner.js';
import type { Pipeline, ToolTurnInput } from '../types.js';
import { sanitize } from './common.js';
import type { FlowDeps } from './deps.js';

/**
 * tool turn: sanitize -> one tool-calling turn of a named generator (the OpenAI-compatible route
 * with `tools`), as a `generate` stage (budget, metrics, span). Every text the model reads is
 * redacted first, tool results included; the caller's token budget counts what it generated.
 */
export function createToolTurnFlow(deps: FlowDeps): Pick<Pipeline, 'callTools'> {
  const runner = createStageRunner(deps.config, deps.metrics, deps.tracer, 'tools');
  return {
    async callTools(input: ToolTurnInput, ctx) {
      await ctx.tokenBudget?.check();
      const generator = deps.models.generator(input.model);
      const callTools = generator.callTools?.bind(generator);
      if (!callTools) throw new ProntoError('unsupported_parameter', `Model ${input.model} does not call tools`, { field: 'tools' });
      const texts = await sanitize(deps, runner, ctx, input.messages.map((turn) => turn.content));
      const messages = input.messages.map((turn, i): ToolTurn => ({ ...turn, content: texts[i] }));
      ctx.transcript.input = texts.join('\n');
      const result = await runner.run(ctx, 'generate', (signal) =>
        callTools(
          { messages, tools: input.tools, toolChoice: input.toolChoice, maxTokens: input.maxTokens ?? deps.config.pipeline.max_answer_tokens, temperature: input.temperature },
          { signal, deadlineAt: ctx.deadline.at, trace: ctx.trace },
        ),
      );
      ctx.tokenBudget?.spend(result.usage.completion_tokens);
      ctx.transcript.output = result.content || JSON.stringify(result.toolCalls);
      return { ...result, model: generator.name };
    },
  };
}
