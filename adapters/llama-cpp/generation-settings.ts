import type { LLamaContextualRepeatPenalty } from 'node-llama-cpp';
import type { ChatRequest, FinishReason } from '../spec/index.js';
import { SluiceError } from '../spec/index.js';

/** llama.cpp's own default, not OpenAI's 1.0: small local models ramble and loop at 1.0. */
export const DEFAULT_TEMPERATURE = 0.8;

export interface Sampling {
  /** 0 = greedy: always the most likely token. */
  temperature: number;
  topP?: number;
  seed?: number;
  repeatPenalty: false | LLamaContextualRepeatPenalty;
}

/**
 * The sampling settings of one choice. With `n > 1` each choice gets `seed + index`, so that
 * sampled choices differ from each other yet a request with a seed is reproducible; at
 * temperature 0 every choice is the same greedy answer, as with OpenAI.
 */
export function samplingOf(request: ChatRequest, choiceIndex: number): Sampling {
  const temperature = request.temperature ?? DEFAULT_TEMPERATURE;
  return {
    temperature,
    topP: request.top_p ?? undefined,
    seed: request.seed == null ? undefined : request.seed + choiceIndex,
    repeatPenalty: repeatPenaltyOf(request),
  };
}

/**
 * OpenAI applies no repetition penalty unless asked, and so neither does this adapter
 * (node-llama-cpp's default would be ×1.1 over the last 64 tokens). Positive presence and
 * frequency penalties map to llama.cpp's, which take 0..1; negative values (encourage
 * repetition) have no llama.cpp counterpart and are ignored.
 */
function repeatPenaltyOf(request: ChatRequest): false | LLamaContextualRepeatPenalty {
  const presence = clampPenalty(request.presence_penalty);
  const frequency = clampPenalty(request.frequency_penalty);
  if (presence === 0 && frequency === 0) return false;
  return { penalty: 1, presencePenalty: presence, frequencyPenalty: frequency };
}

function clampPenalty(value: number | null | undefined): number {
  return Math.min(1, Math.max(0, value ?? 0));
}

/** `stop` as node-llama-cpp stop triggers; empty strings would stop at once and are dropped. */
export function stopTriggersOf(request: ChatRequest): string[] {
  const stop = request.stop;
  if (stop == null) return [];
  return (Array.isArray(stop) ? stop : [stop]).filter((text) => text.length > 0);
}

export function choiceCountOf(request: ChatRequest): number {
  const n = request.n ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new SluiceError('invalid-request', 'n must be a positive integer', { param: 'n' });
  return n;
}

/**
 * How many tokens to generate: what the request asks for (or the backend's default), cut to
 * what the context has left after the prompt. A prompt that does not fit is the caller's
 * problem, reported as OpenAI does (`context_length_exceeded`), rather than silently
 * shifted out of the context.
 */
export function maxTokensFor(request: ChatRequest, promptTokens: number, contextSize: number, defaultMaxTokens: number): number {
  const requested = request.max_completion_tokens ?? request.max_tokens ?? defaultMaxTokens;
  const room = contextSize - promptTokens;
  if (room < 1) {
    throw new SluiceError(
      'invalid-request',
      `This model's maximum context length is ${contextSize} tokens. However, your messages resulted in ${promptTokens} tokens.`,
      { param: 'messages', code: 'context_length_exceeded' },
    );
  }
  return Math.min(requested, room);
}

export type StopReason = 'eogToken' | 'stopGenerationTrigger' | 'customStopTrigger' | 'functionCalls' | 'maxTokens' | 'abort';

/** Why node-llama-cpp stopped → OpenAI's finish_reason. */
export function finishReasonOf(stopReason: StopReason): FinishReason {
  switch (stopReason) {
    case 'maxTokens':
      return 'length';
    case 'functionCalls':
      return 'tool_calls';
    default:
      return 'stop';
  }
}
