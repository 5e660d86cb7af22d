import { Type } from '@sinclair/typebox';
import { ProntoError, invalidInput } from '../../core/errors.js';
import type { ChatMessage, ToolTurn } from '../../models/types.js';
import type { Schemas } from '../schemas.js';

/**
 * OpenAI's chat message as clients send it: content as a string or as parts (LangChain and the
 * SDKs send `[{"type":"text","text":"..."}]`), the `developer` role (a system message for newer
 * models), and a `name` that pronto does not use. Parts other than text are refused by
 * `conversationFromOpenAI`, naming the part.
 */
export function openAIMessageSchema(s: Schemas, maxTextChars: number) {
  const Part = Type.Object(
    { type: Type.String({ description: 'Only "text" parts are accepted' }), text: Type.Optional(Type.String({ maxLength: maxTextChars })) },
    { additionalProperties: true, $id: 'OpenAIContentPart' },
  );
  return Type.Object(
    {
      role: Type.Union([
        Type.Literal('system'),
        Type.Literal('developer'),
        Type.Literal('user'),
        Type.Literal('assistant'),
        Type.Literal('tool'),
      ]),
      content: Type.Union([
        s.Text('Message text'),
        Type.Array(Part, { minItems: 1, maxItems: 64 }),
        Type.Null({ description: 'Only an assistant message with tool_calls' }),
      ]),
      name: Type.Optional(Type.String({ maxLength: 256, description: 'Accepted and ignored' })),
    },
    { additionalProperties: true, $id: 'OpenAIChatMessage' },
  );
}

export interface OpenAIMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content: string | Array<{ type: string; text?: string }> | null;
  name?: string;
  /** A tool message: the call it answers. */
  tool_call_id?: string;
  /** An assistant message: the calls it made. */
  tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }>;
}

/** pronto's conversation from OpenAI messages: text parts joined, `developer` read as `system`. */
export function conversationFromOpenAI(messages: OpenAIMessage[]): ChatMessage[] {
  return messages.map((message, i) => {
    if (message.role === 'tool') {
      throw new ProntoError('unsupported_parameter', 'A tool message answers a tool call: send it with the `tools` the model may call', {
        field: `messages[${i}].role`,
      });
    }
    const role = message.role === 'developer' ? 'system' : message.role;
    return { role, content: textOf(message, i) };
  });
}

/**
 * A tool-calling conversation (a request with `tools`): as `conversationFromOpenAI`, plus an
 * assistant's `tool_calls` (its content may be null then) and `tool` messages answering them.
 */
export function toolTurnsFromOpenAI(messages: OpenAIMessage[]): ToolTurn[] {
  return messages.map((message, i): ToolTurn => {
    if (message.role === 'tool') {
      if (typeof message.tool_call_id !== 'string')
        throw invalidInput(`messages[${i}].tool_call_id`, 'a tool message names the call it answers (tool_call_id)');
      return { role: 'tool', tool_call_id: message.tool_call_id, content: textOf(message, i) };
    }
    if (message.role === 'assistant' && message.tool_calls?.length) {
      return {
        role: 'assistant',
        content: message.content === null ? '' : textOf(message, i),
        tool_calls: message.tool_calls.map((call, j) => {
          if (typeof call.id !== 'string' || typeof call.function?.name !== 'string') {
            throw invalidInput(`messages[${i}].tool_calls[${j}]`, 'a tool call has an id and a function name');
          }
          return { id: call.id, name: call.function.name, arguments: call.function.arguments ?? '{}' };
        }),
      };
    }
    return { role: message.role === 'developer' ? 'system' : message.role, content: textOf(message, i) };
  });
}

/** A message's text: its string, or its text parts joined; anything else is refused, naming the part. */
function textOf(message: OpenAIMessage, i: number): string {
  if (message.content === null)
    throw invalidInput(`messages[${i}].content`, `messages[${i}].content is null: only an assistant message with tool_calls may have none`);
  if (typeof message.content === 'string') return message.content;
  const texts = message.content.map((part, j) => {
    const field = `messages[${i}].content[${j}]`;
    if (part.type !== 'text') {
      throw new ProntoError('unsupported_parameter', `${field} is a "${part.type}" part: pronto reads text parts only`, {
        field: `${field}.type`,
      });
    }
    if (typeof part.text !== 'string') throw invalidInput(`${field}.text`, `${field}.text is required for a text part`);
    return part.text;
  });
  const content = texts.join('\n');
  if (!/\S/.test(content)) throw invalidInput(`messages[${i}].content`, `messages[${i}].content holds no text`);
  return content;
}
