import { describe, expect, it } from 'vitest';
import {
  centroid,
  complementaryError,
  cosineDistance,
  countLabels,
  kMeans,
  kolmogorovSmirnov,
  kolmogorovSurvival,
  populationStability,
  seededRandom,
  twoProportionZ,
} from '../../../src/learning/drift-stats.js';

const normal = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const draw = (count: number, make: () => number) => Array.from({ length: count }, make);

describe('Kolmogorov–Smirnov', () => {
  it.each([
    // The Kolmogorov distribution's tabulated upper tail: the 10%, 5% and 1% critical values, and λ = 1.
    [1.2238, 0.1],
    [1.3581, 0.05],
    [1.6276, 0.01],
    [1.0, 0.27],
  ])('P(K > %f) is %f', (lambda, tail) => {
    expect(kolmogorovSurvival(lambda)).toBeCloseTo(tail, 3);
  });

  it('measures the largest gap between the empirical CDFs, ties counted together', () => {
    expect(kolmogorovSmirnov([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).statistic).toBe(1);
    expect(kolmogorovSmirnov([3, 1, 2], [2, 3, 1]).statistic).toBe(0);
    expect(kolmogorovSmirnov([3, 1, 2], [2, 3, 1]).pValue).toBe(1);
    expect(kolmogorovSmirnov([1, 1, 2], [1, 2, 2]).statistic).toBeCloseTo(1 / 3, 12);
  });

  it('gives the p-value of the Stephens-corrected asymptotic distribution', () => {
    // n = m = 100, D = 0.2: λ = (√50 + 0.12 + 0.11/√50) · 0.2 = 1.4413, P(K > λ) = 0.0314.
    const first = Array.from({ length: 100 }, (_, index) => index);
    const result = kolmogorovSmirnov(
      first,
      first.map((value) => value + 20),
    );
    expect(result.statistic).toBeCloseTo(0.2, 12);
    expect(result.pValue).toBeCloseTo(0.0314, 4);
  });

  it('is calibrated: two samples of one distribution fall below p = 0.05 about 5% of the time', () => {
    const random = seededRandom(7);
    let rejections = 0;
    const trials = 400;
    for (let trial = 0; trial < trials; trial += 1) {
      if (kolmogorovSmirnov(draw(300, random), draw(200, random)).pValue < 0.05) rejections += 1;
    }
    expect(rejections / trials).toBeGreaterThan(0.02);
    expect(rejections / trials).toBeLessThan(0.08);
  });

  it('finds a shift of a quarter standard deviation in 500 values a side', () => {
    const random = seededRandom(3);
    const result = kolmogorovSmirnov(
      draw(500, () => normal(random)),
      draw(500, () => normal(random) + 0.25),
    );
    expect(result.pValue).toBeLessThan(0.01);
  });
});

describe('two-proportion z-test', () => {
  it('matches the textbook figures', () => {
    // 45/100 against 60/100: pooled 0.525, z = 2.124, two-sided p = 0.0337.
    const result = twoProportionZ(45, 100, 60, 100);
    expect(result.statistic).toBeCloseTo(2.124, 3);
    expect(result.pValue).toBeCloseTo(0.0337, 4);
  });

  it('has nothing to test when neither sample has a success', () => {
    expect(twoProportionZ(0, 50, 0, 80)).toEqual({ statistic: 0, pValue: 1 });
  });

  it.each([
    [1.959964, 0.05],
    [2.575829, 0.01],
    [0, 1],
  ])('erfc(%f / √2) is %f', (z, p) => {
    expect(complementaryError(z / Math.SQRT2)).toBeCloseTo(p, 6);
    expect(complementaryError(-z / Math.SQRT2)).toBeCloseTo(2 - p, 6);
  });
});

describe('population stability index', () => {
  it('is 0 for identical distributions, whatever the sample sizes', () => {
    expect(populationStability([10, 20, 30], [10, 20, 30])).toBe(0);
    expect(populationStability([1, 2, 3], [100, 200, 300])).toBeCloseTo(0, 12);
  });

  it('is Σ (a − e) ln(a / e) on proportions: 50/50 against 25/75 is 0.2747', () => {
    expect(populationStability([50, 50], [25, 75])).toBeCloseTo(0.274653, 5);
  });

  it('stays finite when a bin is empty on one side, and large', () => {
    const value = populationStability([50, 50, 0], [40, 40, 20]);
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThan(0.2);
  });

  it('counts labels in a fixed order, ignoring unknown ones', () => {
    expect(countLabels(['b', 'a', 'b', 'z'], ['a', 'b', 'c'])).toEqual([1, 2, 0]);
  });
});

describe('embedding geometry', () => {
  it('takes the mean vector and the cosine distance between directions', () => {
    expect([...centroid([[1, 0], [0, 1]])]).toEqual([0.5, 0.5]);
    expect(cosineDistance([1, 0], [2, 0])).toBeCloseTo(0, 12);
    expect(cosineDistance([1, 0], [0, 3])).toBeCloseTo(1, 12);
    expect(cosineDistance([1, 0], [-1, 0])).toBeCloseTo(2, 12);
  });

  it('k-means recovers three separated topics, and assigns new points to their topic', () => {
    const random = seededRandom(11);
    const topics = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const near = (topic: number[]) => topic.map((value) => value + (random() - 0.5) * 0.2);
    const points = topics.flatMap((topic) => draw(40, () => 0).map(() => near(topic)));
    const clusters = kMeans(points, 3, 5);
    const labelsOf = (topic: number) => new Set(points.slice(topic * 40, topic * 40 + 40).map((point) => clusters.assign(point)));
    expect([labelsOf(0), labelsOf(1), labelsOf(2)].map((labels) => labels.size)).toEqual([1, 1, 1]);
    expect(new Set([0, 1, 2].map((topic) => [...labelsOf(topic)][0])).size).toBe(3);
    expect(clusters.assign(near(topics[1]!))).toBe([...labelsOf(1)][0]);
  });

  it('k-means gives fewer clusters than k when there are fewer distinct points', () => {
    expect(kMeans([[1, 0], [1, 0], [0, 1]], 8).centroids.length).toBe(2);
  });
});
