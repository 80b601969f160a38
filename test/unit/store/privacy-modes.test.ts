import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyTextMode, toLoggedInference, type TextLogMode } from '../../../src/store/inference-log.js';

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describe('text logging modes, applied at append', () => {
  it.each<[TextLogMode, string, string | undefined]>([
    [{ kind: 'full' }, 'hello world', 'hello world'],
    [{ kind: 'truncated', maxChars: 5 }, 'hello world', 'hello'],
    [{ kind: 'truncated', maxChars: 50 }, 'hello world', 'hello world'],
    [{ kind: 'truncated', maxChars: 2 }, 'a😀b', 'a'], // never half an emoji
    [{ kind: 'hashed' }, 'hello world', sha256('hello world')],
    [{ kind: 'off' }, 'hello world', undefined],
  ])('%o turns %j into %j', (mode, text, expected) => {
    expect(applyTextMode(text, mode)).toBe(expected);
    const row = toLoggedInference({ requestId: 'r', inputText: text, output: text }, mode);
    expect(row.inputText).toBe(expected);
    expect(row.output).toBe(expected);
  });

  it('keeps unknown text unknown', () => {
    expect(applyTextMode(undefined, { kind: 'hashed' })).toBeUndefined();
  });

  it('makes values every column accepts', () => {
    const at = new Date('2026-01-02T03:04:05.000Z');
    const row = toLoggedInference(
      { requestId: 'r\u0000', latencyMs: 12.6, promptTokens: 3.2, costUsd: 1e6, qualityScore: Number.NaN, output: 'a\u0000b' },
      { kind: 'full' },
      at,
    );
    expect(row).toMatchObject({ requestId: 'r', attempt: 1, latencyMs: 13, promptTokens: 3, output: 'ab', isEstimated: false });
    expect(row.costUsd).toBeUndefined();
    expect(row.qualityScore).toBeUndefined();
    expect(row.createdAt).toBe('2026-01-02T03:04:05.000Z');
  });
});
