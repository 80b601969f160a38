import { describe, expect, it } from 'vitest';
import { AnswerScorer, createAnswerScorer, HARD_CAP } from '../../../src/quality/answer-scorer.js';
import type { QualityCheck } from '../../../src/quality/quality-scorer.js';
import { completion, request, THRESHOLD, verdict } from './quality-fixtures.js';

const fixed = (name: string, weight: number, score: number | undefined, hard = false): QualityCheck => ({ name, weight, hard, run: () => score });
const ASK = request('Anything?');
const ANSWER = completion('Something.');

describe('AnswerScorer', () => {
  it('multiplies soft deficits: weight × (1 − score) of what is left', async () => {
    const result = await new AnswerScorer([fixed('a', 0.5, 0.5), fixed('b', 0.4, 0), fixed('ok', 1, 1)]).score(ASK, ANSWER);
    expect(result.score).toBeCloseTo(0.75 * 0.6, 3);
    expect(result.reasons).toEqual(['a', 'b']);
  });

  it('a not-applicable check does not change the score', async () => {
    const without = await new AnswerScorer([fixed('a', 0.5, 0.6)]).score(ASK, ANSWER);
    const withIt = await new AnswerScorer([fixed('a', 0.5, 0.6), fixed('n/a', 1, undefined, true), { name: 'async-n/a', weight: 1, run: async () => undefined }]).score(ASK, ANSWER);
    expect(withIt).toEqual(without);
  });

  it('one clear soft failure is not diluted by many passing checks', async () => {
    const passing = Array.from({ length: 10 }, (_, index) => fixed(`ok${index}`, 1, 1));
    expect((await new AnswerScorer([...passing, fixed('language', 0.6, 0)]).score(ASK, ANSWER)).score).toBeLessThan(THRESHOLD);
  });

  it('caps the score when a hard check fails, whatever its weight', async () => {
    const result = await new AnswerScorer([fixed('format', 0.1, 0, true)]).score(ASK, ANSWER);
    expect(result.score).toBe(HARD_CAP);
    expect(result.reasons).toEqual(['format']);
    expect((await new AnswerScorer([fixed('format', 0.1, 0.6, true)]).score(ASK, ANSWER)).score).toBeGreaterThan(HARD_CAP);
  });

  it('uses a check’s own reason, and ignores a check that throws', async () => {
    const reasoned: QualityCheck = { name: 'language', weight: 0.6, run: () => ({ score: 0, reason: 'language:fr≠en' }) };
    const broken: QualityCheck = { name: 'broken', weight: 1, hard: true, run: () => { throw new Error('bug'); } };
    const rejecting: QualityCheck = { name: 'rejecting', weight: 1, hard: true, run: () => Promise.reject(new Error('bug')) };
    const result = await new AnswerScorer([reasoned, broken, rejecting]).score(ASK, ANSWER);
    expect(result).toEqual({ score: 0.4, reasons: ['language:fr≠en'] });
  });

  it('combines real failures: several reasons, still below the threshold', async () => {
    const result = await verdict('Quelle est la capitale de la France ? Réponds en un mot.', 'The capital of France is Paris, a city on the Seine.');
    expect(result.score).toBeLessThan(THRESHOLD);
    expect(result.reasons).toContain('one-word');
  });

  it('scores a typical answer well under a millisecond', async () => {
    const scorer = createAnswerScorer();
    const ask = request('Classify the sentiment of this review as positive, negative or neutral: "Great value, fast shipping, would buy again."');
    const answer = completion('Positive — the reviewer praises the value and the shipping speed.');
    await scorer.score(ask, answer);
    const rounds = 2000;
    const started = performance.now();
    for (let round = 0; round < rounds; round += 1) await scorer.score(request(`Question ${round}: what is the capital of France? Explain briefly.`), completion(`The capital of France is Paris (${round}). It is on the Seine and has about two million inhabitants.`));
    expect((performance.now() - started) / rounds).toBeLessThan(0.5);
  });
});
