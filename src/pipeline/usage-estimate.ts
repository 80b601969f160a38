import type { ChatMessage, Usage } from '../../adapters/spec/index.js';

/**
 * A rough token count (about four characters a token for English) used only when a backend
 * reports no usage; costs computed from it are flagged as estimated.
 */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

export function messagesText(messages: readonly ChatMessage[]): string {
  return messages
    .map((message) => {
      if (typeof message.content === 'string') return message.content;
      if (Array.isArray(message.content)) return message.content.map((part) => ('text' in part ? part.text : '')).join(' ');
      return '';
    })
    .join('\n');
}

export function estimateUsage(messages: readonly ChatMessage[], completionText: string): Usage {
  const prompt = estimateTokens(messagesText(messages)) + 3 * messages.length;
  const completion = estimateTokens(completionText);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
