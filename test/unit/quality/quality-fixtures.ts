import type { ChatCompletion, ChatRequest, FinishReason, ResponseFormat } from '../../../adapters/spec/index.js';
import { AnswerScorer, createAnswerScorer } from '../../../src/quality/answer-scorer.js';
import type { QualityVerdict } from '../../../src/quality/quality-scorer.js';

export const THRESHOLD = 0.75;

export interface Ask {
  system?: string;
  format?: ResponseFormat;
  maxTokens?: number;
}

export function request(user: string, ask: Ask = {}): ChatRequest {
  return {
    model: 'auto',
    messages: [...(ask.system ? [{ role: 'system' as const, content: ask.system }] : []), { role: 'user', content: user }],
    response_format: ask.format,
    max_tokens: ask.maxTokens,
  };
}

export function completion(content: string | null, finish: FinishReason = 'stop', extra: Partial<ChatCompletion['choices'][number]['message']> = {}): ChatCompletion {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 0,
    model: 'local',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null, ...extra }, finish_reason: finish, logprobs: null }],
  };
}

const scorer: AnswerScorer = createAnswerScorer();

/** The default scorer's verdict on one exchange. */
export function verdict(user: string, answer: string | ChatCompletion, ask: Ask = {}): Promise<QualityVerdict> {
  return scorer.score(request(user, ask), typeof answer === 'string' ? completion(answer) : answer);
}
