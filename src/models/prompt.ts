import type { ChatMessage } from './types.js';

/** The question a generator answers: the content of the last user message ('' when none). */
export function lastUserMessage(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') return messages[i].content;
  }
  return '';
}
