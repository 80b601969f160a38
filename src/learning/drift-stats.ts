/**
 * The statistics drift detection rests on, by hand: each is a few lines, and the libraries that
 * have them (`@stdlib/*`) bring hundreds of packages for it. Pure functions, no I/O.
 */

export interface TestResult {
  /** The test's statistic: KS distance D in 0..1, or |z| for the proportion test. */
  statistic: number;
  /** Two-sided p-value: the chance of a statistic this large when both samples share one distribution. */
  pValue: number;
}

/**
 * Two-sample Kolmogorov–Smirnov: D is the largest gap between the two empirical CDFs. The p-value
 * is the asymptotic Kolmogorov distribution with Stephens' small-sample correction (Numerical
 * Recipes §14.3): good from about 20 values a side, conservative when values tie.
 */
export function kolmogorovSmirnov(first: readonly number[], second: readonly number[]): TestResult {
  if (first.length === 0 || second.length === 0) throw new RangeError('kolmogorovSmirnov: an empty sample');
  const a = [...first].sort((x, y) => x - y);
  const b = [...second].sort((x, y) => x - y);
  let i = 0;
  let j = 0;
  let distance = 0;
  while (i < a.length && j < b.length) {
    const value = Math.min(a[i]!, b[j]!);
    while (i < a.length && a[i] === value) i += 1;
    while (j < b.length && b[j] === value) j += 1;
    distance = Math.max(distance, Math.abs(i / a.length - j / b.length));
  }
  const effective = Math.sqrt((a.length * b.length) / (a.length + b.length));
  return { statistic: distance, pValue: kolmogorovSurvival((effective + 0.12 + 0.11 / effective) * distance) };
}

/** P(K > lambda) for the Kolmogorov distribution: 2 Σ (-1)^(k-1) exp(-2 k² λ²). */
export function kolmogorovSurvival(lambda: number): number {
  // Below ~0.3 the alternating series has not converged in 100 terms, and the answer is 1 to 1e-9.
  if (lambda < 0.3) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k += 1) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-12) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * Two-proportion z-test with the pooled rate. Where neither sample has a success (or neither a
 * failure) the rates are equal and there is nothing to test: z = 0, p = 1.
 */
export function twoProportionZ(successesA: number, totalA: number, successesB: number, totalB: number): TestResult {
  if (totalA <= 0 || totalB <= 0) throw new RangeError('twoProportionZ: an empty sample');
  const pooled = (successesA + successesB) / (totalA + totalB);
  const variance = pooled * (1 - pooled) * (1 / totalA + 1 / totalB);
  if (variance === 0) return { statistic: 0, pValue: 1 };
  const z = (successesB / totalB - successesA / totalA) / Math.sqrt(variance);
  return { statistic: Math.abs(z), pValue: complementaryError(Math.abs(z) / Math.SQRT2) };
}

/** erfc(x), Chebyshev fit with fractional error below 1.2e-7 everywhere (Numerical Recipes `erfcc`). */
export function complementaryError(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const polynomial =
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const value = t * Math.exp(polynomial);
  return x >= 0 ? value : 2 - value;
}

/** Proportions below this count as this, so an empty bin on one side gives a large, finite PSI. */
const PSI_FLOOR = 1e-4;

/**
 * Population stability index of two histograms over the same bins: Σ (actual − expected) · ln(actual / expected)
 * on proportions. The usual reading: below 0.1 stable, 0.1–0.2 moderate, above 0.2 a real shift.
 */
export function populationStability(expectedCounts: readonly number[], actualCounts: readonly number[]): number {
  if (expectedCounts.length !== actualCounts.length) throw new RangeError('populationStability: different bins');
  const expectedTotal = expectedCounts.reduce((sum, count) => sum + count, 0);
  const actualTotal = actualCounts.reduce((sum, count) => sum + count, 0);
  if (expectedTotal === 0 || actualTotal === 0) throw new RangeError('populationStability: an empty histogram');
  let index = 0;
  for (let bin = 0; bin < expectedCounts.length; bin += 1) {
    const expected = Math.max(PSI_FLOOR, expectedCounts[bin]! / expectedTotal);
    const actual = Math.max(PSI_FLOOR, actualCounts[bin]! / actualTotal);
    index += (actual - expected) * Math.log(actual / expected);
  }
  return index;
}

/** Counts of each label, in the order of `labels` (labels not listed are not counted). */
export function countLabels<T>(values: readonly T[], labels: readonly T[]): number[] {
  const position = new Map(labels.map((label, index) => [label, index]));
  const counts = labels.map(() => 0);
  for (const value of values) {
    const index = position.get(value);
    if (index !== undefined) counts[index] = (counts[index] ?? 0) + 1;
  }
  return counts;
}

export type Vector = ArrayLike<number>;

/** The mean vector. */
export function centroid(vectors: readonly Vector[]): Float64Array {
  const first = vectors[0];
  if (!first) throw new RangeError('centroid: no vectors');
  const sum = new Float64Array(first.length);
  for (const vector of vectors) for (let d = 0; d < sum.length; d += 1) sum[d]! += vector[d] ?? 0;
  for (let d = 0; d < sum.length; d += 1) sum[d]! /= vectors.length;
  return sum;
}

/** 1 − cosine similarity: 0 for the same direction, 1 for orthogonal, 2 for opposite. */
export function cosineDistance(a: Vector, b: Vector): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let d = 0; d < a.length; d += 1) {
    dot += a[d]! * (b[d] ?? 0);
    normA += a[d]! * a[d]!;
    normB += (b[d] ?? 0) * (b[d] ?? 0);
  }
  if (normA === 0 || normB === 0) return 1;
  return 1 - dot / Math.sqrt(normA * normB);
}

/** A small seeded generator (mulberry32), so a fit is repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface Clusters {
  readonly centroids: readonly Float64Array[];
  /** The index of the nearest centroid (squared Euclidean distance). */
  assign(vector: Vector): number;
}

/**
 * k-means (k-means++ seeding, then Lloyd's iterations until no assignment changes). Embeddings
 * are unit vectors, where the Euclidean nearest centroid is also the cosine nearest one. With
 * fewer distinct vectors than k, fewer clusters come back.
 */
export function kMeans(vectors: readonly Vector[], k: number, seed = 1, maxIterations = 50): Clusters {
  if (vectors.length === 0) throw new RangeError('kMeans: no vectors');
  const random = seededRandom(seed);
  const centroids = seedCentroids(vectors, k, random);
  const assignment = new Int32Array(vectors.length).fill(-1);
  for (let iteration = 0; iteration < maxIterations; iteration += 1) {
    let changed = false;
    vectors.forEach((vector, index) => {
      const nearestIndex = nearest(centroids, vector);
      if (nearestIndex !== assignment[index]) changed = true;
      assignment[index] = nearestIndex;
    });
    if (!changed) break;
    centroids.forEach((_, cluster) => {
      const members = vectors.filter((__, index) => assignment[index] === cluster);
      if (members.length > 0) centroids[cluster] = centroid(members);
    });
  }
  return { centroids, assign: (vector) => nearest(centroids, vector) };
}

function seedCentroids(vectors: readonly Vector[], k: number, random: () => number): Float64Array[] {
  const centroids = [Float64Array.from(vectors[Math.floor(random() * vectors.length)]!)];
  while (centroids.length < k) {
    const weights = vectors.map((vector) => squaredDistance(centroids[nearest(centroids, vector)]!, vector));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    if (total === 0) break; // every vector sits on a centroid already
    let draw = random() * total;
    let chosen = weights.length - 1;
    for (let index = 0; index < weights.length; index += 1) {
      draw -= weights[index]!;
      if (draw <= 0) {
        chosen = index;
        break;
      }
    }
    centroids.push(Float64Array.from(vectors[chosen]!));
  }
  return centroids;
}

function nearest(centroids: readonly Float64Array[], vector: Vector): number {
  let best = 0;
  let bestDistance = Infinity;
  centroids.forEach((candidate, index) => {
    const distance = squaredDistance(candidate, vector);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = index;
    }
  });
  return best;
}

function squaredDistance(a: Vector, b: Vector): number {
  let sum = 0;
  for (let d = 0; d < a.length; d += 1) {
    const gap = a[d]! - (b[d] ?? 0);
    sum += gap * gap;
  }
  return sum;
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}
