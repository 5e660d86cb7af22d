/** The OpenAI-compatible names shared by more than one route. */

/** The model id that runs the whole RAG pipeline (retrieval + the configured generator). */
export const RAG_MODEL = 'pronto-rag';
