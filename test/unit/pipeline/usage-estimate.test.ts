import { describe, expect, it } from 'vitest';
import { countTokens, estimateUsage } from '../../../src/pipeline/usage-estimate.js';

describe('local token counts (for vendors that report no usage)', () => {
  it('counts with GPT-4o’s own o200k encoding', () => {
    expect(countTokens('Hello there, how are you doing today?')).toBe(9);
    expect(countTokens('')).toBe(0);
  });

  it('adds OpenAI’s per-message framing to the prompt', () => {
    const usage = estimateUsage(
      [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hello there, how are you doing today?' },
      ],
      'Fine.',
    );
    expect(usage.prompt_tokens).toBe(3 + (3 + countTokens('You are terse.')) + (3 + 9));
    expect(usage.completion_tokens).toBe(countTokens('Fine.'));
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });
});
