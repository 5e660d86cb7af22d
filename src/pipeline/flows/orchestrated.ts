import { deferred } from '../../core/deferred.js';
import { ProntoError } from '../../core/errors.js';
import type { Hit } from '../../retrieval/types.js';
import { allContexts, type Draft, type StepTools } from '../orchestrator/flow-state.js';
import { runStepsBeforeAnswer } from '../orchestrator/run-steps.js';
import { createStageRunner } from '../stage-runner.js';
import { createGenerateStage } from '../stages/generate.js';
import { extractCitations } from '../stages/postprocess.js';
import { createRerankStage } from '../stages/rerank.js';
import type { AnswerStream, FlowInput, Pipeline, RequestContext, StepEvent } from '../types.js';
import { createContextRetriever, sanitizeMessages } from './common.js';
import type { FlowDeps } from './deps.js';

/**
 * flow NAME: sanitize -> the flow's steps from config (rewrite, retrieve, rerank; docs/FLOWS.md)
 * under the flow's budget -> generate (streamed), one answer per part of the question from the
 * parts' merged contexts, so every part is cited in one numbering -> postprocess.
 * Each flow has its own stage runner (metric label `flow` = `flow:NAME`; names come from config).
 */
export function createOrchestratedFlows(deps: FlowDeps): Pick<Pipeline, 'flow'> {
  const { config, models } = deps;
  const flows = new Map(
    Object.entries(config.flows).map(([name, flow]) => {
      const runner = createStageRunner(config, deps.metrics, deps.tracer, `flow:${name}`);
      const generate = createGenerateStage({ config, metrics: deps.metrics, runner, flow: `flow:${name}` });
      const tools: StepTools = {
        deps,
        runner,
        retrieveContexts: createContextRetriever(deps, runner),
        rerank: createRerankStage({ runner }),
        generate,
      };
      return [name, { flow, runner, tools, generate }] as const;
    }),
  );

  return {
    flow(input: FlowInput, ctx: RequestContext): AnswerStream {
      const entry = flows.get(input.flow);
      if (!entry) throw new ProntoError('unknown_flow', `flow "${input.flow}" is not configured`, { field: 'flow' });
      const { flow, runner, tools, generate } = entry;
      const generateStep = flow.steps[flow.steps.length - 1];
      // Each step is kept on the request (its view on the dashboard) as well as reported.
      const steps: StepEvent[] = (ctx.steps ??= []);
      const onStep = (event: StepEvent) => {
        steps.push(event);
        input.onStep?.(event);
      };
      const prepared = (async () => {
        const messages = await sanitizeMessages(deps, runner, ctx, input.messages);
        const question = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
        const state = await runStepsBeforeAnswer(tools, flow, { ...input, onStep }, question, ctx);
        ctx.transcript.input = question;
        const contexts = allContexts(state);
        return { messages, state, contexts, draft: reusableDraft(state.draft, state.parts, contexts) };
      })();
      prepared.catch(() => undefined);
      const done = deferred<Awaited<AnswerStream['done']>>();

      async function* tokens(): AsyncGenerator<string> {
        try {
          const { messages, state, contexts, draft } = await prepared;
          const startMs = Math.round((performance.now() - ctx.startedAt) * 10) / 10;
          onStep({ name: generateStep.name ?? 'generate', kind: 'generate', status: 'running', ms: 0, start_ms: startMs, parts: state.parts });
          let text = '';
          const usage = { prompt_tokens: 0, completion_tokens: 0 };
          let model = config.pipeline.generator;
          if (draft) {
            // A loop's last draft, written from exactly these contexts, is the answer.
            text = draft.text;
            yield draft.text;
            Object.assign(usage, draft.usage);
            model = draft.model;
          }
          // Each part answered on its own (the reader and the prompt answer one question), all
          // from the same contexts: `[n]` means the same context in every part of the answer.
          for (const [i, part] of (draft ? [] : state.parts).entries()) {
            if (i > 0) {
              text += '\n';
              yield '\n';
            }
            const generation = generate(
              ctx,
              {
                messages: [...messages.slice(0, -1), { role: 'user', content: part }],
                contexts: contexts.map((hit: Hit) => ({ id: hit.id, text: hit.text, title: hit.title })),
                maxTokens:
                  ('max_tokens' in generateStep ? generateStep.max_tokens : undefined) ??
                  input.maxTokens ??
                  config.pipeline.max_answer_tokens,
                answer: config.answer,
              },
              models.generator(config.pipeline.generator),
              models.has(config.pipeline.fallback_generator) ? models.generator(config.pipeline.fallback_generator) : undefined,
            );
            for await (const token of generation.tokens) {
              text += token;
              yield token;
            }
            const finished = await generation.done;
            usage.prompt_tokens += finished.usage.prompt_tokens;
            usage.completion_tokens += finished.usage.completion_tokens;
            model = finished.model;
          }
          const startedAt = performance.now();
          const citations = extractCitations(text, contexts);
          runner.record(ctx, 'postprocess', startedAt, 'ok');
          ctx.transcript.retrieved = contexts.map((hit) => ({ id: hit.id, doc_id: hit.docId, score: hit.score }));
          ctx.transcript.output = text;
          ctx.transcript.cited = citations;
          done.resolve({ usage, model, citations });
        } catch (err) {
          done.reject(err);
          throw err;
        }
      }
      return { contexts: prepared.then((p) => p.contexts), tokens: tokens(), done: done.promise };
    },
  };
}

/**
 * A loop's draft serves as the answer when it answered the whole question (one part) from the
 * very contexts the answer would be written from: writing it again would give the same answer.
 */
function reusableDraft(draft: Draft | undefined, parts: string[], contexts: Hit[]): Draft | undefined {
  if (!draft || parts.length !== 1 || draft.contextIds.length !== contexts.length) return undefined;
  return draft.contextIds.every((id, i) => id === contexts[i].id) ? draft : undefined;
}
