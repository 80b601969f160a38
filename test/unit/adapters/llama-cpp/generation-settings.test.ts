import { describe, expect, it } from 'vitest';
import {
  choiceCountOf,
  DEFAULT_TEMPERATURE,
  finishReasonOf,
  maxTokensFor,
  samplingOf,
  stopTriggersOf,
  type StopReason,
} from '../../../../adapters/llama-cpp/generation-settings.js';
import { SluiceError, type ChatRequest, type FinishReason } from '../../../../adapters/spec/index.js';

const request = (overrides: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'local', messages: [{ role: 'user', content: 'Hi' }], ...overrides });

function thrown(action: () => unknown): SluiceError {
  try {
    action();
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected a SluiceError');
}

describe('samplingOf', () => {
  it('passes temperature 0 through (greedy) and defaults an absent one', () => {
    expect(samplingOf(request({ temperature: 0 }), 0).temperature).toBe(0);
    expect(samplingOf(request(), 0).temperature).toBe(DEFAULT_TEMPERATURE);
    expect(samplingOf(request({ temperature: null }), 0).temperature).toBe(DEFAULT_TEMPERATURE);
  });

  it('passes top_p and gives choice i the seed + i', () => {
    const sampling = samplingOf(request({ top_p: 0.9, seed: 41 }), 2);
    expect(sampling.topP).toBe(0.9);
    expect(sampling.seed).toBe(43);
    expect(samplingOf(request(), 1).seed).toBeUndefined();
  });

  it('applies no repetition penalty unless presence or frequency penalties ask for one', () => {
    expect(samplingOf(request(), 0).repeatPenalty).toBe(false);
    expect(samplingOf(request({ presence_penalty: -1 }), 0).repeatPenalty).toBe(false);
    expect(samplingOf(request({ presence_penalty: 0.5, frequency_penalty: 2 }), 0).repeatPenalty).toEqual({ penalty: 1, presencePenalty: 0.5, frequencyPenalty: 1 });
  });
});

describe('stopTriggersOf', () => {
  it.each<[ChatRequest['stop'], string[]]>([
    [undefined, []],
    [null, []],
    ['END', ['END']],
    [['a', '', 'b'], ['a', 'b']],
  ])('%j → %j', (stop, triggers) => {
    expect(stopTriggersOf(request({ stop }))).toEqual(triggers);
  });
});

describe('choiceCountOf', () => {
  it('defaults to one and takes n', () => {
    expect(choiceCountOf(request())).toBe(1);
    expect(choiceCountOf(request({ n: 3 }))).toBe(3);
  });

  it('refuses a non-positive n', () => {
    expect(thrown(() => choiceCountOf(request({ n: 0 }))).detail.param).toBe('n');
  });
});

describe('maxTokensFor', () => {
  it('takes max_completion_tokens, then max_tokens, then the default', () => {
    expect(maxTokensFor(request({ max_completion_tokens: 7 }), 10, 4096, 512)).toBe(7);
    expect(maxTokensFor(request({ max_tokens: 9 }), 10, 4096, 512)).toBe(9);
    expect(maxTokensFor(request(), 10, 4096, 512)).toBe(512);
  });

  it('cuts the answer to what the context has left', () => {
    expect(maxTokensFor(request({ max_tokens: 1000 }), 4000, 4096, 512)).toBe(96);
  });

  it('refuses a prompt that fills the context, as OpenAI does', () => {
    const error = thrown(() => maxTokensFor(request(), 4096, 4096, 512));
    expect(error.kind).toBe('invalid-request');
    expect(error.detail).toMatchObject({ param: 'messages', code: 'context_length_exceeded' });
    expect(error.message).toContain('4096');
  });
});

describe('finishReasonOf', () => {
  it.each<[StopReason, FinishReason]>([
    ['eogToken', 'stop'],
    ['stopGenerationTrigger', 'stop'],
    ['customStopTrigger', 'stop'],
    ['maxTokens', 'length'],
    ['functionCalls', 'tool_calls'],
  ])('%s → %s', (stopReason, finishReason) => {
    expect(finishReasonOf(stopReason)).toBe(finishReason);
  });
});
