/**
 * From the scorer's raw score to a probability that the answer is correct, and the measures that
 * say how well a score separates and predicts correct answers. The mapping is Platt scaling:
 * P(correct) = σ(a·score + b), a logistic regression on the one number, fitted on the local
 * model's answers to the train split of the labelled set (scripts/fit-quality-calibration.ts,
 * `make train`) and shipped as src/quality/calibration.json. With a > 0 it is strictly
 * increasing, so it changes what the score means, never how it orders answers (the ROC AUC).
 */
import type { Config } from '../config/schema.js';
import shippedArtefact from './calibration.json' with { type: 'json' };

/** How raw scores become probabilities (config `quality.calibration`); `none` leaves them as the checks combine them. */
export type CalibrationMethod = Config['quality']['calibration'];

export interface PlattCalibration {
  method: 'platt';
  /** Slope on the raw score; positive, or the map would reverse the order. */
  a: number;
  b: number;
}

/** The shipped file: the mapping and where it came from. */
export interface CalibrationArtefact extends PlattCalibration {
  fitted_on: { answers: string; model: string; scorer: string; split: 'train'; items: number; correct: number };
}

/** Newton steps on the log loss; a one-dimensional logistic fit converges in a handful. */
const MAX_STEPS = 100;
const CONVERGED = 1e-10;

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** σ(a·score + b), the probability that an answer with this raw score is correct. */
export function plattProbability(calibration: PlattCalibration, score: number): number {
  return sigmoid(calibration.a * score + calibration.b);
}

/**
 * Fits σ(a·score + b) to 0/1 outcomes by Newton's method on the log loss, with Platt's targets
 * ((N₊+1)/(N₊+2) for a correct answer, 1/(N₋+2) for a wrong one) so that a score seen only with
 * correct answers (most answers score exactly 1) still maps below certainty. Deterministic: the
 * same data give the same numbers. Throws when the data cannot give an increasing map.
 */
export function fitPlatt(scores: readonly number[], correct: readonly boolean[]): PlattCalibration {
  if (scores.length !== correct.length || scores.length === 0) throw new Error('fitPlatt: scores and outcomes must be non-empty and of equal length');
  const positives = correct.filter(Boolean).length;
  const negatives = correct.length - positives;
  if (positives === 0 || negatives === 0) throw new Error('fitPlatt: needs both correct and wrong answers');
  const high = (positives + 1) / (positives + 2);
  const low = 1 / (negatives + 2);
  const targets = correct.map((isCorrect) => (isCorrect ? high : low));
  let a = 0;
  let b = Math.log((positives + 1) / (negatives + 1));
  for (let step = 0; step < MAX_STEPS; step += 1) {
    // Gradient and Hessian of the mean log loss in (a, b).
    let ga = 0;
    let gb = 0;
    let haa = 0;
    let hab = 0;
    let hbb = 0;
    scores.forEach((score, index) => {
      const p = sigmoid(a * score + b);
      const residual = p - targets[index]!;
      const curvature = Math.max(p * (1 - p), 1e-12);
      ga += residual * score;
      gb += residual;
      haa += curvature * score * score;
      hab += curvature * score;
      hbb += curvature;
    });
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-15)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < CONVERGED) break;
  }
  if (!(a > 0) || !Number.isFinite(b)) throw new Error(`fitPlatt: the fit is not increasing (a = ${a}): the scores do not rank correct answers above wrong ones`);
  return { method: 'platt', a, b };
}

/** The artefact's numbers, checked: a file that would not give an increasing map is refused. */
export function calibrationOf(raw: unknown): PlattCalibration {
  const value = raw as Partial<PlattCalibration> | undefined;
  if (value?.method !== 'platt' || typeof value.a !== 'number' || typeof value.b !== 'number' || !(value.a > 0) || !Number.isFinite(value.b)) {
    throw new Error('quality calibration: expected { method: "platt", a > 0, b }');
  }
  return { method: 'platt', a: value.a, b: value.b };
}

/** The calibration config asks for: the shipped artefact for `platt`, none for `none`. */
export function shippedCalibration(method: CalibrationMethod): PlattCalibration | undefined {
  return method === 'platt' ? calibrationOf(shippedArtefact) : undefined;
}

/**
 * ROC AUC: the probability that a correct answer scores above a wrong one, ties counting half
 * (the Mann–Whitney statistic, from average ranks). NaN when either class is missing.
 */
export function rocAuc(scores: readonly number[], correct: readonly boolean[]): number {
  const positives = correct.filter(Boolean).length;
  const negatives = correct.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  const order = scores.map((score, index) => ({ score, index })).sort((x, y) => x.score - y.score);
  let rankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.score === order[start]!.score) end += 1;
    const averageRank = (start + end) / 2 + 1;
    for (let at = start; at <= end; at += 1) if (correct[order[at]!.index]) rankSum += averageRank;
    start = end + 1;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean squared error of probabilities against 0/1 outcomes (lower is better). */
export function brierScore(probabilities: readonly number[], correct: readonly boolean[]): number {
  if (probabilities.length === 0) return Number.NaN;
  return probabilities.reduce((sum, p, index) => sum + (p - (correct[index] ? 1 : 0)) ** 2, 0) / probabilities.length;
}

export interface ReliabilityBin {
  /** [from, to) — the last bin includes 1. */
  from: number;
  to: number;
  items: number;
  meanProbability: number;
  observedCorrect: number;
}

/** Equal-width bins over [0, 1]: predicted against observed rate in each (empty bins have NaN means). */
export function reliabilityBins(probabilities: readonly number[], correct: readonly boolean[], bins = 10): ReliabilityBin[] {
  return Array.from({ length: bins }, (_, bin) => {
    const from = bin / bins;
    const to = (bin + 1) / bins;
    const members = probabilities.flatMap((p, index) => ((p >= from && p < to) || (bin === bins - 1 && p === 1) ? [index] : []));
    const mean = (values: number[]) => (values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length);
    return {
      from,
      to,
      items: members.length,
      meanProbability: mean(members.map((index) => probabilities[index]!)),
      observedCorrect: mean(members.map((index) => (correct[index] ? 1 : 0))),
    };
  });
}

/** Expected calibration error: |predicted − observed| per bin, weighted by the bin's share of items. */
export function expectedCalibrationError(probabilities: readonly number[], correct: readonly boolean[], bins = 10): number {
  if (probabilities.length === 0) return Number.NaN;
  return reliabilityBins(probabilities, correct, bins)
    .filter((bin) => bin.items > 0)
    .reduce((sum, bin) => sum + (bin.items / probabilities.length) * Math.abs(bin.meanProbability - bin.observedCorrect), 0);
}
