import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { wordOverlap } from '../../../src/learning/shadow-sampler.js';

const models = [{ id: 'claude-3-5-sonnet-latest', backend: 'anthropic', capabilities: ['chat'], price: { input_per_1m: 3, output_per_1m: 15 } }];
const backends = { anthropic: { type: 'anthropic', base_url: 'http://127.0.0.1:1', api_key: 'k' } };

describe('learning.shadow config', () => {
  it('is off by default, samples 2%, and compares with the baseline model', () => {
    const config = parseConfig({ backends, models });
    expect(config.learning.shadow).toMatchObject({ enabled: false, sample_rate: 0.02 });
    expect(config.learning.shadow.model ?? config.targets.baseline_model).toBe('claude-3-5-sonnet-latest');
  });

  it('names the field when the premium model is not configured', () => {
    const error = (() => {
      try {
        parseConfig({ backends, models, learning: { shadow: { enabled: true, model: 'gpt-5x' } } });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).lines.join('\n')).toMatch(/learning\.shadow\.model.*gpt-5x/);
  });

  it('refuses a sample rate outside 0..1', () => {
    expect(() => parseConfig({ backends, models, learning: { shadow: { sample_rate: 2 } } })).toThrow(/learning\.shadow\.sample_rate/);
  });
});

describe('agreement between two answers', () => {
  it('is 1 for the same words, 0 for none shared, in between otherwise', () => {
    expect(wordOverlap('Red, orange and yellow.', 'red orange AND yellow')).toBe(1);
    expect(wordOverlap('Paris', 'Berlin')).toBe(0);
    const partial = wordOverlap('red orange yellow', 'red green blue');
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(1);
  });
});
