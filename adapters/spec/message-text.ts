import type { ChatMessage } from './chat.js';

/**
 * The text a message carries — its string content, or its text parts joined by a space — and
 * nothing else (images, audio and files say nothing a text check can read). The one extractor
 * for routing, accounting and logging; translators that must refuse non-text parts keep theirs.
 */
export function messageText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (part.type !== 'text') continue;
    text = text === '' ? part.text : `${text} ${part.text}`;
  }
  return text;
}

/** Every message's text, one message per line, in order. */
export function conversationText(messages: readonly ChatMessage[]): string {
  return messages.map((message) => messageText(message.content)).join('\n');
}

/** The text of the caller's latest turn (the last user message), '' without one. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    if (messages[index]!.role === 'user') return messageText(messages[index]!.content);
  }
  return '';
}
