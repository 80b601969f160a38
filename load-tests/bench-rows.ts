import type { InferenceRow } from '../src/store/inference-log.js';

/** One log row of typical size (a short local answer), as the log benchmarks append it. */
export function benchRow(requestId: string): InferenceRow {
  return {
    requestId,
    modelId: 'local-qwen',
    inputText: 'What is the capital of France? '.repeat(4),
    output: 'Paris is the capital of France. '.repeat(8),
    costUsd: 0.000123,
    latencyMs: 250,
    promptTokens: 30,
    completionTokens: 64,
    tier: 'simple',
    route: 'local',
    cacheStatus: 'miss',
  };
}
