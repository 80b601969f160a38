import { randomBytes } from 'node:crypto';
import type { AnswerIdentity, ChatCompletion, Usage } from '../spec/index.js';
import type { GeneratedChoice } from './local-generation.js';

export function newCompletionId(): string {
  return `chatcmpl-local-${randomBytes(12).toString('hex')}`;
}

/** The prompt is evaluated once per request, whatever `n`; every choice's tokens count. */
export function usageOf(promptTokens: number, choices: readonly Pick<GeneratedChoice, 'completionTokens'>[]): Usage {
  const completionTokens = choices.reduce((sum, choice) => sum + choice.completionTokens, 0);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export function toChatCompletion(identity: AnswerIdentity, choices: readonly GeneratedChoice[], promptTokens: number): ChatCompletion {
  return {
    id: identity.id,
    object: 'chat.completion',
    created: identity.created,
    model: identity.model,
    choices: choices.map((choice, index) => ({
      index,
      message: {
        role: 'assistant',
        content: choice.toolCalls.length > 0 && choice.text === '' ? null : choice.text,
        refusal: null,
        ...(choice.toolCalls.length > 0 && { tool_calls: choice.toolCalls }),
      },
      finish_reason: choice.finishReason,
      logprobs: null,
    })),
    usage: usageOf(promptTokens, choices),
    system_fingerprint: identity.fingerprint,
  };
}
