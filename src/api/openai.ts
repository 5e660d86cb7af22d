/** The OpenAI-compatible names shared by more than one route. */

/** The model id that runs the whole RAG pipeline (retrieval + the configured generator). */
export const RAG_MODEL = 'pronto-rag';

/** The model id of a configured flow: `pronto-flow:NAME` runs flow NAME (docs/FLOWS.md). */
export const FLOW_MODEL_PREFIX = 'pronto-flow:';

export const flowModelId = (flow: string) => `${FLOW_MODEL_PREFIX}${flow}`;

/** The flow a model id names, if it is a flow's. */
export function flowOfModel(model: string): string | undefined {
  return model.startsWith(FLOW_MODEL_PREFIX) ? model.slice(FLOW_MODEL_PREFIX.length) : undefined;
}
