import type { Usage } from '../../adapters/spec/index.js';
import type { PriceConfig } from '../config/schema.js';

const PER_MILLION = 1_000_000;

/** USD for one call's usage; cached prompt tokens are billed at the cached rate when one is set. */
export function chatCostUsd(price: PriceConfig, usage: Usage | undefined): number | undefined {
  if (!usage) return undefined;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const cachedRate = price.cached_input_per_1m ?? price.input_per_1m;
  const uncached = Math.max(0, usage.prompt_tokens - cached);
  return (uncached * price.input_per_1m + cached * cachedRate + usage.completion_tokens * price.output_per_1m) / PER_MILLION;
}

export function embeddingCostUsd(price: PriceConfig, promptTokens: number): number {
  return (promptTokens * price.input_per_1m) / PER_MILLION;
}

export function audioCostUsd(price: PriceConfig, durationSeconds: number | undefined): number | undefined {
  if (price.audio_per_minute === undefined) return 0;
  if (durationSeconds === undefined) return undefined;
  return (durationSeconds / 60) * price.audio_per_minute;
}

/** The most a chat call can cost: every prompt token at full rate plus the output cap. */
export function maxChatCostUsd(price: PriceConfig, promptTokens: number, maxOutputTokens: number): number {
  return (promptTokens * price.input_per_1m + maxOutputTokens * price.output_per_1m) / PER_MILLION;
}

/** `0.000123` — six significant digits is enough for a header and never shows `1e-7`. */
export function formatUsd(costUsd: number | undefined): string | undefined {
  if (costUsd === undefined) return undefined;
  return costUsd.toFixed(8).replace(/0+$/, '').replace(/\.$/, '');
}
