import { describe, expect, it } from 'vitest';
import { fitShippedCalibration } from '../../../eval/quality/fit-calibration.js';
import { parseConfig } from '../../../src/config/load.js';
import { AnswerScorer, createAnswerScorer } from '../../../src/quality/answer-scorer.js';
import {
  brierScore,
  calibrationOf,
  expectedCalibrationError,
  fitPlatt,
  plattProbability,
  reliabilityBins,
  rocAuc,
  shippedCalibration,
} from '../../../src/quality/calibration.js';
import type { QualityCheck } from '../../../src/quality/quality-scorer.js';
import shippedArtefact from '../../../src/quality/calibration.json' with { type: 'json' };
import { completion, request } from './quality-fixtures.js';

const GRID = Array.from({ length: 101 }, (_, index) => index / 100);

describe('rocAuc', () => {
  it('is the share of (correct, wrong) pairs ranked right, on a hand-made example', () => {
    // Pairs (correct, wrong): (0.35, 0.1) ✓ (0.35, 0.4) ✗ (0.8, 0.1) ✓ (0.8, 0.4) ✓ → 3/4.
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBeCloseTo(0.75, 10);
  });

  it('counts a tie as half, and is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(rocAuc([1, 1, 1], [true, false, true])).toBeCloseTo(0.5, 10);
    // (0.9 vs 0.5) ✓, (0.5 vs 0.5) ½ → 1.5 / 2.
    expect(rocAuc([0.9, 0.5, 0.5], [true, true, false])).toBeCloseTo(0.75, 10);
    expect(rocAuc([0.2, 0.9], [false, true])).toBe(1);
    expect(rocAuc([0.9, 0.2], [false, true])).toBe(0);
    expect(rocAuc([0.3, 0.7], [true, true])).toBeNaN();
  });
});

describe('Brier, ECE and reliability bins', () => {
  it('measure how far probabilities are from what happened', () => {
    expect(brierScore([1, 0, 0.5], [true, false, true])).toBeCloseTo(0.25 / 3, 10);
    // One bin [0.9, 1]: mean 0.95, observed 0.5 → ECE 0.45.
    expect(expectedCalibrationError([0.9, 1], [true, false])).toBeCloseTo(0.45, 10);
    const bins = reliabilityBins([0.05, 0.95, 1], [false, true, false], 10);
    expect(bins[0]).toMatchObject({ items: 1, observedCorrect: 0 });
    expect(bins[9]).toMatchObject({ items: 2, observedCorrect: 0.5 });
  });
});

describe('fitPlatt', () => {
  // Higher scores are correct more often: 1 of 4 at 0.2, 2 of 4 at 0.5, 7 of 8 at 1.
  const scores = [0.2, 0.2, 0.2, 0.2, 0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1, 1, 1, 1, 1];
  const correct = [true, false, false, false, true, true, false, false, true, true, true, true, true, true, true, false];

  it('gives an increasing map whose probabilities follow the observed rates', () => {
    const fit = fitPlatt(scores, correct);
    expect(fit.a).toBeGreaterThan(0);
    const at = (score: number) => plattProbability(fit, score);
    expect(at(0.2)).toBeLessThan(at(0.5));
    expect(at(0.5)).toBeLessThan(at(1));
    expect(at(1)).toBeGreaterThan(0.7);
    expect(at(1)).toBeLessThan(0.95);
    expect(at(0.2)).toBeLessThan(0.4);
    // Better calibrated than reading the raw score as a probability.
    const calibrated = scores.map(at);
    expect(brierScore(calibrated, correct)).toBeLessThan(brierScore(scores, correct));
  });

  it('is deterministic and refuses data where wrong answers score higher', () => {
    expect(fitPlatt(scores, correct)).toEqual(fitPlatt(scores, correct));
    expect(() => fitPlatt(scores, correct.map((value) => !value))).toThrow(/not increasing/u);
    expect(() => fitPlatt([1, 1], [true, true])).toThrow(/both/u);
  });
});

describe('the shipped calibration (src/quality/calibration.json)', () => {
  it('is monotone and within [0, 1]', () => {
    const calibration = shippedCalibration('platt')!;
    const mapped = GRID.map((score) => plattProbability(calibration, score));
    for (const [index, probability] of mapped.entries()) {
      expect(probability).toBeGreaterThanOrEqual(0);
      expect(probability).toBeLessThanOrEqual(1);
      if (index > 0) expect(probability).toBeGreaterThan(mapped[index - 1]!);
    }
    expect(shippedCalibration('none')).toBeUndefined();
  });

  it('is what the fitting script gives on the committed answers file', async () => {
    expect(await fitShippedCalibration()).toEqual(shippedArtefact);
  });

  it('refuses an artefact that would reverse the order', () => {
    expect(() => calibrationOf({ method: 'platt', a: -1, b: 0 })).toThrow();
    expect(() => calibrationOf({ method: 'isotonic', a: 1, b: 0 })).toThrow();
  });
});

describe('AnswerScorer with a calibration', () => {
  const fixed = (score: number): QualityCheck => ({ name: 'fixed', weight: 1, hard: true, run: () => score });
  const calibration = { method: 'platt' as const, a: 6, b: -2 };

  it('reports σ(a·score + b) with the same reasons, and keeps the order of answers', async () => {
    const ask = request('Anything?');
    const answer = completion('Something.');
    const scores: number[] = [];
    for (const raw of [0.1, 0.6, 0.9, 1]) {
      const plain = await new AnswerScorer([fixed(raw)]).score(ask, answer);
      const mapped = await new AnswerScorer([fixed(raw)], calibration).score(ask, answer);
      expect(mapped.reasons).toEqual(plain.reasons);
      expect(mapped.score).toBeCloseTo(plattProbability(calibration, plain.score), 3);
      scores.push(mapped.score);
    }
    expect(scores).toEqual([...scores].sort((x, y) => x - y));
    expect(new Set(scores).size).toBe(scores.length);
  });

  it('is off unless configured: `quality.calibration` defaults to none', async () => {
    expect(parseConfig({}).quality.calibration).toBe('none');
    expect(parseConfig({ quality: { calibration: 'platt' } }).quality.calibration).toBe('platt');
    expect(() => parseConfig({ quality: { calibration: 'isotonic' } })).toThrow(/quality\.calibration/u);
    const ask = request('What is the capital of France?');
    const plain = await createAnswerScorer().score(ask, completion('Paris.'));
    expect(plain.score).toBe(1);
    const calibrated = await createAnswerScorer({ calibration: shippedCalibration('platt') }).score(ask, completion('Paris.'));
    expect(calibrated.score).toBeCloseTo(plattProbability(shippedCalibration('platt')!, 1), 3);
  });
});
