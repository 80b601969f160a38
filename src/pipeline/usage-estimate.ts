import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import { messageText, type ChatMessage, type Usage } from '../../adapters/spec/index.js';

/**
 * Tokens counted locally, used only when a backend reports no usage; costs computed from them
 * are flagged as estimated. o200k_base is GPT-4o's own encoding, so for OpenAI models the count
 * is exact; for other vendors' models it is a close stand-in. Built on first use (~0.5 s), since
 * most deployments never need it.
 */
let encoder: Tiktoken | undefined;

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  encoder ??= new Tiktoken(o200kBase);
  return encoder.encode(text).length;
}

/** OpenAI's chat accounting: each message costs its content plus 3 tokens of framing, and the reply 3 more. */
export function estimateUsage(messages: readonly ChatMessage[], completionText: string): Usage {
  const prompt = messages.reduce((sum, message) => sum + 3 + countTokens(messageText(message.content)), 3);
  const completion = countTokens(completionText);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
