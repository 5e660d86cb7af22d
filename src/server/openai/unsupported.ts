import { ProntoError } from '../../core/errors.js';

/** The request fields of OpenAI's chat completions that change what the answer must be. */
export interface OpenAIChatOptions {
  n?: number;
  tools?: unknown[];
  tool_choice?: unknown;
  functions?: unknown[];
  function_call?: unknown;
  response_format?: { type?: string };
  logprobs?: boolean;
  top_logprobs?: number;
  audio?: unknown;
  modalities?: string[];
}

/**
 * Refuses, with 400 `unsupported_parameter` naming the field, what pronto cannot honour rather
 * than answer as if it had: the legacy `functions`, several choices, structured output,
 * log-probabilities, audio. The values that ask for nothing more than plain text (n: 1,
 * function_call: "none", ...) pass. `tools` are honoured by generators that call tools
 * (chat-completions.ts refuses them for the others).
 */
export function refuseUnsupported(body: OpenAIChatOptions): void {
  const refuse = (field: string, why: string) => {
    throw new ProntoError('unsupported_parameter', `${field} is not supported: ${why}`, { field });
  };
  if (body.functions?.length) refuse('functions', 'send tools instead (the legacy functions are not read)');
  if (body.function_call !== undefined && body.function_call !== 'none') refuse('function_call', 'send tools and tool_choice instead');
  if (body.tool_choice !== undefined && body.tool_choice !== 'none' && !body.tools?.length) refuse('tool_choice', 'it needs tools to choose from');
  if (body.n !== undefined && body.n !== 1) refuse('n', 'pronto answers with one choice; send n: 1 or leave it out');
  const format = body.response_format?.type;
  if (format !== undefined && format !== 'text') refuse('response_format', `pronto answers in plain text, not ${format}`);
  if (body.logprobs === true || body.top_logprobs !== undefined)
    refuse(body.logprobs === true ? 'logprobs' : 'top_logprobs', 'pronto does not report log-probabilities');
  if (body.audio !== undefined) refuse('audio', 'pronto answers in text');
  if (body.modalities?.some((m) => m !== 'text')) refuse('modalities', 'pronto answers in text');
}
