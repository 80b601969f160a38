import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../adapters/spec/index.js';
import { forLocalModel, type LocalAnswerSettings } from '../../../src/pipeline/local-answer.js';

const settings: LocalAnswerSettings = {
  instruction: 'Answer briefly.',
  tiers: { simple: { temperature: 0, max_tokens: 256 }, medium: { max_tokens: 1024 } },
};
const ask = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'auto', messages: [{ role: 'user', content: 'capital of Peru?' }], ...extra });

describe('a routed request put to a local model', () => {
  it('gets the instruction as a system message, and the tier’s temperature and output cap', () => {
    const local = forLocalModel(ask(), 'simple', settings);
    expect(local.messages).toEqual([
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'capital of Peru?' },
    ]);
    expect(local).toMatchObject({ temperature: 0, max_tokens: 256 });
  });

  it('keeps the caller’s system prompt, with the instruction after it, and the caller’s own settings', () => {
    const request = ask({ messages: [{ role: 'system', content: 'You are Acme’s assistant.' }, { role: 'user', content: 'hi' }], temperature: 0.9, max_completion_tokens: 50 });
    const local = forLocalModel(request, 'simple', settings);
    expect(local.messages[0]).toEqual({ role: 'system', content: 'You are Acme’s assistant.\n\nAnswer briefly.' });
    expect(local.messages).toHaveLength(2);
    expect(local.temperature).toBe(0.9);
    expect(local.max_tokens).toBeUndefined();
    expect(local.max_completion_tokens).toBe(50);
    expect(request.messages[0]!.content).toBe('You are Acme’s assistant.'); // the caller's request is not changed
  });

  it('applies only what a tier sets, and nothing without an instruction', () => {
    const medium = forLocalModel(ask(), 'medium', settings);
    expect(medium.temperature).toBeUndefined();
    expect(medium.max_tokens).toBe(1024);
    const plain = forLocalModel(ask(), 'high', { instruction: '', tiers: {} });
    expect(plain).toEqual(ask());
  });
});
