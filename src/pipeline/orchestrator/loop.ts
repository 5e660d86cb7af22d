import { FLOW_DEFAULTS, type FlowStepConfig } from '../../config/flows.js';
import type { FlowInput, RequestContext, StepEvent } from '../types.js';
import { extractCitations } from '../stages/postprocess.js';
import { allContexts, mergeById, type FlowState, type StepTools } from './flow-state.js';

type LoopStep = Extract<FlowStepConfig, { kind: 'loop' }>;

/**
 * A `loop` step: retrieve for the question, write a draft from every context found so far, and
 * stop once the draft cites `min_citations` contexts; else the next round asks for `top_k` more
 * (ranks further down the same lists), up to `max_rounds`, or until a round finds nothing new.
 * The state keeps each round's contexts and draft as it goes, so a budget running out mid-loop
 * still leaves the rounds done.
 */
export async function runLoop(tools: StepTools, step: LoopStep, state: FlowState, input: FlowInput, ctx: RequestContext): Promise<Partial<StepEvent>> {
  const { config, models } = tools.deps;
  const maxRounds = step.max_rounds ?? FLOW_DEFAULTS.max_rounds;
  const minCitations = step.min_citations ?? FLOW_DEFAULTS.min_citations;
  const perRound = step.top_k ?? input.topK;
  const ids: string[] = [];
  let rounds = 0;
  for (let round = 1; round <= maxRounds; round++) {
    const hits = await tools.retrieveContexts(
      ctx,
      {
        query: state.question,
        namespace: step.namespace ?? input.namespace,
        topK: Math.min(perRound * round, config.retrieval.max_top_k),
        mode: step.mode ?? config.retrieval.default_mode,
        filter: (step.filter as FlowInput['filter']) ?? input.filter,
        rerank: false,
      },
      'throw',
    );
    const before = state.extra.length;
    state.extra = mergeById(state.extra, hits);
    ids.push(...state.extra.slice(before).map((hit) => hit.id));
    if (round > 1 && state.extra.length === before) break;
    rounds = round;
    const contexts = allContexts(state);
    const generation = tools.generate(
      ctx,
      {
        messages: [{ role: 'user', content: state.question }],
        contexts: contexts.map((hit) => ({ id: hit.id, text: hit.text, title: hit.title })),
        maxTokens: step.max_tokens ?? input.maxTokens ?? config.pipeline.max_answer_tokens,
        answer: config.answer,
      },
      models.generator(config.pipeline.generator),
      models.has(config.pipeline.fallback_generator) ? models.generator(config.pipeline.fallback_generator) : undefined,
    );
    let text = '';
    for await (const token of generation.tokens) text += token;
    const { usage, model } = await generation.done;
    const citations = extractCitations(text, contexts);
    state.draft = { text, citations, usage, model, contextIds: contexts.map((hit) => hit.id) };
    if (citations.length >= minCitations) break;
  }
  return { ids, rounds, cited: state.draft?.citations.length ?? 0 };
}
