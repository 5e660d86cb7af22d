import { Type } from '@sinclair/typebox';
import { ProntoError, invalidInput } from '../../core/errors.js';
import type { ChatMessage } from '../../models/types.js';
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
      content: Type.Union([s.Text('Message text'), Type.Array(Part, { minItems: 1, maxItems: 64 })]),
      name: Type.Optional(Type.String({ maxLength: 256, description: 'Accepted and ignored' })),
    },
    { additionalProperties: true, $id: 'OpenAIChatMessage' },
  );
}

export interface OpenAIMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content: string | Array<{ type: string; text?: string }>;
  name?: string;
}

/** pronto's conversation from OpenAI messages: text parts joined, `developer` read as `system`. */
export function conversationFromOpenAI(messages: OpenAIMessage[]): ChatMessage[] {
  return messages.map((message, i) => {
    if (message.role === 'tool') {
      throw new ProntoError('unsupported_parameter', 'Tool messages are not supported: pronto does not call tools', {
        field: `messages[${i}].role`,
      });
    }
    const role = message.role === 'developer' ? 'system' : message.role;
    if (typeof message.content === 'string') return { role, content: message.content };
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
    return { role, content };
  });
}
