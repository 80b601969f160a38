import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createLlamaCppAdapter } from '../../../../adapters/llama-cpp/llama-cpp-adapter.js';
import { parseLlamaCppOptions } from '../../../../adapters/llama-cpp/llama-cpp-options.js';

describe('parseLlamaCppOptions', () => {
  it('fills the defaults and resolves the model against the models directory', () => {
    expect(parseLlamaCppOptions('local', { model: 'chat/m.gguf' }, '/srv/models')).toEqual({
      modelPath: '/srv/models/chat/m.gguf',
      contextSize: 4096,
      parallel: 2,
      queueLimit: 32,
      maxWaitMs: 20_000,
      threads: availableParallelism(),
      defaultMaxTokens: 512,
    });
  });

  it('keeps an absolute model path and takes every option', () => {
    const options = parseLlamaCppOptions(
      'local',
      { model: '/opt/m.gguf', context_size: 2048, parallel: 1, queue_limit: 0, max_wait_ms: 1500, threads: 4, default_max_tokens: 64 },
      '/srv/models',
    );
    expect(options).toEqual({ modelPath: '/opt/m.gguf', contextSize: 2048, parallel: 1, queueLimit: 0, maxWaitMs: 1500, threads: 4, defaultMaxTokens: 64 });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a missing model', {}, /backends\.local\.options\.model:/],
    ['a parallel of 0', { model: 'm.gguf', parallel: 0 }, /backends\.local\.options\.parallel:/],
    ['a fractional context size', { model: 'm.gguf', context_size: 10.5 }, /backends\.local\.options\.context_size:/],
    ['a negative queue limit', { model: 'm.gguf', queue_limit: -1 }, /backends\.local\.options\.queue_limit:/],
    ['a negative max wait', { model: 'm.gguf', max_wait_ms: -5 }, /backends\.local\.options\.max_wait_ms:/],
    ['threads as a string', { model: 'm.gguf', threads: 'two' }, /backends\.local\.options\.threads:/],
    ['an unknown option', { model: 'm.gguf', contextsize: 2048 }, /backends\.local\.options\.contextsize:/],
  ])('rejects %s, naming the option', (_name, raw, message) => {
    expect(() => parseLlamaCppOptions('local', raw, 'models')).toThrow(message);
  });

  it('is what the factory runs first: bad options fail at creation, before any loading', () => {
    const settings = { id: 'local', type: 'llama-cpp', timeoutMs: 1000, options: { model: 'm.gguf', parallel: 'many' }, paths: { modelsDir: 'models', dataDir: 'data' } };
    expect(() => createLlamaCppAdapter(settings)).toThrow(/backends\.local\.options\.parallel/);
  });
});
