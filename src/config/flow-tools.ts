import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * The tools a flow may call (a `tool` step, or the model-driven planner of a `plan` step), each
 * with the JSON schema of its arguments. The schemas live here, beside the flow schema, so a
 * `tool` step's arguments are checked when the config loads; the tools themselves are in
 * src/pipeline/tools/. Every argument is required and every string bounded: the same schemas
 * become the grammar a local model's tool calls are constrained by (node-llama-cpp requires every
 * property, and a bound keeps a small model's strings from running to its token limit).
 */
export const TOOL_ARGUMENTS = {
  search_namespace: Type.Object(
    {
      namespace: Type.String({ minLength: 1, maxLength: 64, description: 'The namespace to search' }),
      query: Type.String({ minLength: 1, maxLength: 200, description: 'What to search for' }),
    },
    { additionalProperties: false },
  ),
  fetch_document: Type.Object(
    {
      namespace: Type.String({ minLength: 1, maxLength: 64, description: 'The namespace holding the document' }),
      doc_id: Type.String({ minLength: 1, maxLength: 200, description: 'The document id (a search hit\'s doc_id)' }),
    },
    { additionalProperties: false },
  ),
  lookup_features: Type.Object(
    { user_id: Type.String({ minLength: 1, maxLength: 128, description: 'The user whose features to read' }) },
    { additionalProperties: false },
  ),
} satisfies Record<string, TSchema>;

export type ToolName = keyof typeof TOOL_ARGUMENTS;
export type ToolArguments<T extends ToolName> = Static<(typeof TOOL_ARGUMENTS)[T]>;

export const TOOL_NAMES = Object.keys(TOOL_ARGUMENTS) as ToolName[];

/** What each tool does, as a model planner reads it. */
export const TOOL_DESCRIPTIONS: Record<ToolName, string> = {
  search_namespace: 'Search a namespace of documents for passages about a query',
  fetch_document: 'Read a whole document by its id',
  lookup_features: "Read a user's features (tier and profile fields)",
};

/**
 * Placeholders a `tool` step's string arguments may hold, filled when the step runs: the
 * question, the request's user, the namespace asked for, the best context's document so far.
 */
export const TOOL_PLACEHOLDERS = ['{question}', '{user_id}', '{namespace}', '{top_doc_id}'] as const;

/** Generator backends whose models call tools (OpenAI-compatible `tool_calls`; llama with a grammar). */
export const TOOL_CALLING_BACKENDS = ['openai', 'llama'] as const;
