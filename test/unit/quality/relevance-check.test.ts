import { describe, expect, it } from 'vitest';
import { createAnswerScorer } from '../../../src/quality/answer-scorer.js';
import type { Embed } from '../../../src/quality/relevance-check.js';
import { cosine } from '../../../src/quality/relevance-scorer.js';
import { completion, request, THRESHOLD } from './quality-fixtures.js';

/** A deterministic stand-in: a bag of words hashed into 64 dimensions, normalised. */
const bagOfWords: Embed = async (texts) =>
  texts.map((text) => {
    const vector = new Array<number>(64).fill(0);
    for (const word of text.toLowerCase().match(/[a-z]{4,}/g) ?? []) {
      let hash = 0;
      for (const char of word.slice(0, 5)) hash = (hash * 31 + char.charCodeAt(0)) % 64;
      vector[hash] += 1;
    }
    const norm = Math.hypot(...vector) || 1;
    return vector.map((value) => value / norm);
  });

describe('relevance', () => {
  const scorer = createAnswerScorer({ embed: bagOfWords });
  const ask = request('How do vaccines train the immune system?');

  it('passes an answer about the question', async () => {
    expect((await scorer.score(ask, completion('Vaccines train the immune system by showing it a harmless piece of a pathogen, so it learns to recognise it.'))).score).toBe(1);
  });

  it('fails an answer about something else', async () => {
    const result = await scorer.score(ask, completion('Preheat the oven, whisk butter with sugar, then fold in flour gently.'));
    expect(result.score).toBeLessThan(THRESHOLD);
    expect(result.reasons).toEqual(['relevance']);
  });

  it('has nothing to say when the embedder fails', async () => {
    const failing = createAnswerScorer({ embed: async () => Promise.reject(new Error('model not loaded')) });
    expect(await failing.score(ask, completion('Preheat the oven, whisk butter with sugar, then fold in flour gently.'))).toEqual({ score: 1, reasons: [] });
  });

  it('cosine is scale-free', () => {
    expect(cosine([1, 0], [2, 0])).toBeCloseTo(1);
    expect(cosine([1, 0], [0, 3])).toBeCloseTo(0);
    expect(cosine([0, 0], [1, 1])).toBe(0);
  });
});
