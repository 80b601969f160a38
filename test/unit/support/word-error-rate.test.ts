/** The same cases as python-sidecar/tests/test_word_error_rate.py: both sides measure alike. */
import { describe, expect, it } from 'vitest';
import { normalisedWords, wordErrorRate } from '../../support/word-error-rate.js';

describe('word error rate', () => {
  it('drops case, accents and punctuation; hyphens split words, apostrophes join them', () => {
    expect(normalisedWords("Hello, World! It's a well-known café.")).toEqual(['hello', 'world', 'its', 'a', 'well', 'known', 'cafe']);
  });

  it.each([
    ['the cat sat', 'The cat sat.', 0],
    ['the cat sat', 'the bat sat', 1 / 3], // one substitution
    ['the cat sat', 'the cat sat down', 1 / 3], // one insertion
    ['the cat sat', 'cat sat', 1 / 3], // one deletion
    ['the cat sat', '', 1],
    ['a b', 'x y z w', 2], // not capped at 1
    ['The quick brown fox jumps over the lazy dog.', 'the quick round-fark jump over the lazy dog.', 3 / 9],
  ])('%j heard as %j is %d', (reference, hypothesis, expected) => {
    expect(wordErrorRate(reference, hypothesis)).toBeCloseTo(expected, 10);
  });

  it('refuses an empty reference', () => {
    expect(() => wordErrorRate('  ...  ', 'anything')).toThrow(/no words/);
  });
});
