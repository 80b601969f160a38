import { SluiceError } from '../spec/index.js';

/**
 * OpenAI's per-request limits on embeddings (2,048 inputs, 8,192 tokens each, 300,000 in all) by
 * default, `max_inputs`, `max_input_tokens` and `max_request_tokens` in a backend's options.
 * They bound the work one request can ask of the local model, and are refused before any of it.
 *
 * Text is counted in the model's own tokens, by its tokenizer, on the tokenizer's worker thread
 * (worker-tokenizer.ts): that count is a by-product of tokenising, which the model needs anyway,
 * and close to OpenAI's for English (WordPiece splits a little finer than cl100k_base). Text the
 * gateway decoded from the client's token ids is counted in those ids, as OpenAI counts them,
 * here on the calling thread: a count of array lengths.
 */
export interface InputLimits {
  maxInputs: number;
  maxInputTokens: number;
  maxRequestTokens: number;
}

const param = { param: 'input' } as const;

export function checkInputCount(count: number, limits: InputLimits, model: string): void {
  if (count > limits.maxInputs) {
    throw new SluiceError('invalid-request', `Too many inputs: ${count}; '${model}' takes at most ${limits.maxInputs} inputs per request. Send them in smaller batches.`, param);
  }
}

/** The client's own token counts per input (its token ids, decoded to text for this backend). */
export function checkClientTokenCounts(counts: readonly number[], limits: InputLimits, model: string): void {
  const index = counts.findIndex((tokens) => tokens > limits.maxInputTokens);
  if (index >= 0) throw inputTooLong(index, counts[index], limits, model, 'token ids');
  const total = counts.reduce((sum, tokens) => sum + tokens, 0);
  if (total > limits.maxRequestTokens) throw requestTooLong(total, limits, model, 'token ids');
}

/** `tokens`: as counted when reading stopped, past the limit; from the tokenizer, a lower bound. */
export function inputTooLong(index: number, tokens: number, limits: InputLimits, model: string, countedIn: 'model tokens' | 'token ids' = 'model tokens'): SluiceError {
  const count = countedIn === 'model tokens' ? `at least ${tokens} tokens (counted by the model's own tokenizer)` : `${tokens} token ids`;
  return new SluiceError(
    'invalid-request',
    `Input ${index} is too long: ${count}; '${model}' takes at most ${limits.maxInputTokens} tokens per input. Shorten or split it.`,
    param,
  );
}

export function requestTooLong(tokens: number, limits: InputLimits, model: string, countedIn: 'model tokens' | 'token ids' = 'model tokens'): SluiceError {
  const count = countedIn === 'model tokens' ? `at least ${tokens} tokens in all (counted by the model's own tokenizer)` : `${tokens} token ids in all`;
  return new SluiceError(
    'invalid-request',
    `Too many tokens in one request: ${count}; '${model}' takes at most ${limits.maxRequestTokens} tokens per request. Send the inputs in smaller batches.`,
    param,
  );
}
