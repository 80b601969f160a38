import { describe, expect, it } from 'vitest';
import { backendFingerprint } from '../../../../adapters/llama-cpp/backend-fingerprint.js';

describe('backendFingerprint', () => {
  const facts = { modelPath: '/srv/models/chat/m.gguf', fileBytes: 93_000_000, fileModifiedMs: 1_700_000_000_123.4, contextSize: 4096, llamaCppRelease: 'b6000' };

  it('is OpenAI-shaped and stable for the same file and settings, wherever the file is mounted', () => {
    const print = backendFingerprint(facts);
    expect(print).toMatch(/^fp_[0-9a-f]{10}$/);
    expect(backendFingerprint({ ...facts })).toBe(print);
    expect(backendFingerprint({ ...facts, modelPath: '/models/chat/m.gguf' })).toBe(print);
  });

  it.each<[string, Partial<typeof facts>]>([
    ['another file name', { modelPath: '/srv/models/chat/other.gguf' }],
    ['another size', { fileBytes: 93_000_001 }],
    ['a newer file', { fileModifiedMs: 1_700_000_999_000 }],
    ['another context size', { contextSize: 2048 }],
    ['another llama.cpp build', { llamaCppRelease: 'b6001' }],
  ])('changes with %s', (_name, change) => {
    expect(backendFingerprint({ ...facts, ...change })).not.toBe(backendFingerprint(facts));
  });
});
