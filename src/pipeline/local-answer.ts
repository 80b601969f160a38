import type { ChatMessage, ChatRequest } from '../../adapters/spec/index.js';
import type { Config, Tier } from '../config/schema.js';

export type LocalAnswerSettings = Config['routing']['local_answers'];

/**
 * A routed request as a local model gets it (`routing.local_answers`): the instruction for short,
 * direct answers added beside the caller's system prompt — appended to a leading system message,
 * or as one of its own —, and the tier's temperature and output cap where the caller set none.
 * Explicit model names and vendors get the request as sent.
 */
export function forLocalModel(request: ChatRequest, tier: Tier, settings: LocalAnswerSettings): ChatRequest {
  const tierSettings = settings.tiers[tier] ?? {};
  const hasCap = request.max_tokens != null || request.max_completion_tokens != null;
  const messages = settings.instruction === '' ? request.messages : withInstruction(request.messages, settings.instruction);
  return {
    ...request,
    messages,
    ...(request.temperature == null && tierSettings.temperature !== undefined && { temperature: tierSettings.temperature }),
    ...(!hasCap && tierSettings.max_tokens !== undefined && { max_tokens: tierSettings.max_tokens }),
  };
}

function withInstruction(messages: readonly ChatMessage[], instruction: string): ChatMessage[] {
  const [first, ...rest] = messages;
  if (first && (first.role === 'system' || first.role === 'developer') && typeof first.content === 'string') {
    return [{ ...first, content: `${first.content}\n\n${instruction}` }, ...rest];
  }
  return [{ role: 'system', content: instruction }, ...messages];
}
