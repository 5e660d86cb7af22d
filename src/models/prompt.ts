import { DEFAULT_ANSWER } from '../config/answer.js';
import { read } from './reader/reader.js';
import type { ChatMessage, GenerateRequest } from './types.js';

/** The question a generator answers: the content of the last user message ('' when none). */
export function lastUserMessage(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') return messages[i].content;
  }
  return '';
}

/**
 * The passages a model generator reads: the `answer.model_contexts` best by the extractive reader,
 * best first (models use the start of their prompt best), each numbered `[n]` by its position in
 * the contexts the client receives, so the model's citations point at the right one.
 */
export function passagesForModel(request: Pick<GenerateRequest, 'messages' | 'contexts' | 'answer'>): string[] {
  const limit = (request.answer ?? DEFAULT_ANSWER).model_contexts;
  const order = read(lastUserMessage(request.messages), request.contexts, 1).passageOrder;
  return order.slice(0, limit).map((i) => {
    const context = request.contexts[i];
    return `[${i + 1}] ${context.title ? `${context.title}: ` : ''}${context.text}`;
  });
}

/** The configured prompt template (`answer.prompt`) with `{passages}` and `{question}` filled in, in one pass. */
export function renderPrompt(template: string, passages: string[], question: string): string {
  return template.replace(/\{passages\}|\{question\}/g, (slot) => (slot === '{passages}' ? passages.join('\n') : question));
}
