import type { GbnfJsonSchema } from 'node-llama-cpp';
import type { ToolCallRequest, ToolTurn } from '../types.js';

/**
 * Tool calls for the llama backend: the reply is constrained by a grammar built from the tools'
 * JSON schemas (node-llama-cpp's JSON-schema grammar), so even a tiny model emits a call that
 * parses and fits its tool's schema: `{"name": <a tool>, "arguments": {...}}`, or with
 * `tool_choice: auto` also `{"answer": "..."}`. Hand-written because node-llama-cpp's own function
 * calling needs a chat template whose syntax the model was trained to start a call with; a raw
 * completion model (aidreams260K.gguf) has none and would never start one.
 */

/** A string with no bound would let a small model write until its token limit, leaving the JSON open. */
const DEFAULT_MAX_STRING = 64;
const MAX_STRING = 256;
const ANSWER_MAX_CHARS = 400;

/** The grammar's schema for a reply under the request's tool choice. */
export function replySchema(request: Pick<ToolCallRequest, 'tools' | 'toolChoice'>): GbnfJsonSchema {
  const chosen = typeof request.toolChoice === 'object' ? request.tools.filter((tool) => tool.name === (request.toolChoice as { name: string }).name) : request.tools;
  const calls: GbnfJsonSchema[] = chosen.map((tool) => ({
    type: 'object',
    properties: { name: { const: tool.name }, arguments: grammarSchema(tool.parameters) },
  }));
  if (request.toolChoice === 'auto') calls.push({ type: 'object', properties: { answer: { type: 'string', maxLength: ANSWER_MAX_CHARS } } });
  return calls.length === 1 ? calls[0] : { oneOf: calls };
}

/**
 * A tool's JSON schema in the subset node-llama-cpp's grammar takes: types, `enum`, `const`,
 * `oneOf`/`anyOf`, objects (every property is written), arrays (at most 8 items) and bounded
 * strings; what it cannot express (patterns, numeric ranges) is dropped, and the tool still
 * checks its arguments when it runs.
 */
export function grammarSchema(schema: unknown): GbnfJsonSchema {
  const s = (schema && typeof schema === 'object' ? schema : {}) as Record<string, any>;
  if ('const' in s) return { const: s.const };
  if (Array.isArray(s.enum)) return { enum: s.enum };
  const variants = s.oneOf ?? s.anyOf;
  if (Array.isArray(variants)) return { oneOf: variants.map(grammarSchema) };
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object':
      return { type: 'object', properties: Object.fromEntries(Object.entries(s.properties ?? {}).map(([key, value]) => [key, grammarSchema(value)])) };
    case 'array':
      return { type: 'array', items: grammarSchema(s.items), maxItems: Math.min(s.maxItems ?? 4, 8) };
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type };
    default:
      return {
        type: 'string',
        ...(typeof s.minLength === 'number' ? { minLength: s.minLength } : {}),
        maxLength: Math.min(typeof s.maxLength === 'number' ? s.maxLength : DEFAULT_MAX_STRING, MAX_STRING),
      };
  }
}

/** The completion prompt: the tools, then the conversation with each call and its result, then the reply slot. */
export function toolPrompt(request: Pick<ToolCallRequest, 'tools' | 'messages'>): string {
  const tools = request.tools.map((tool) => `- ${tool.name}: ${tool.description ?? ''} Arguments: ${JSON.stringify(tool.parameters)}`);
  const turns = request.messages.map(turnLine);
  return [
    'You may call a tool. Reply with JSON: {"name": "<tool>", "arguments": {...}}, or {"answer": "..."} when done.',
    'Tools:',
    ...tools,
    ...turns,
    'Reply:',
  ].join('\n');
}

function turnLine(turn: ToolTurn): string {
  if ('tool_calls' in turn) return turn.tool_calls.map((call) => `Call: {"name": ${JSON.stringify(call.name)}, "arguments": ${call.arguments}}`).join('\n');
  if (turn.role === 'tool') return `Result: ${turn.content}`;
  return `${turn.role === 'user' ? 'User' : turn.role === 'system' ? 'System' : 'Assistant'}: ${turn.content}`;
}

/** The parsed reply as a call (arguments as JSON text, as OpenAI carries them) or an answer. */
export function readReply(reply: unknown): { name: string; arguments: string } | { answer: string } {
  const r = reply as { name?: string; arguments?: unknown; answer?: string };
  if (typeof r.answer === 'string') return { answer: r.answer };
  return { name: String(r.name), arguments: JSON.stringify(r.arguments ?? {}) };
}
