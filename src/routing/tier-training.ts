/**
 * Fitting the tier classifier's softmax models: what `make train` (scripts/train-router.ts) runs
 * on the routing set, and what the optimizer runs again with the log's labelled examples added.
 * Plain full-batch gradient descent from zero weights with L2 and balanced class weights: the same
 * examples in the same order give the same weights. Pure: the callers read the examples.
 */
import { TIERS } from '../config/schema.js';
import { featureNames } from './prompt-features.js';
import { HARD_RULES, joinInput, predict, type HardRule } from './tier-classifier.js';

export const L2_GRID = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1] as const;
export const FOLDS = 5;
export const ITERATIONS = 600;

export interface TrainingExample {
  /** Index into TIERS. */
  label: number;
  features: Float32Array;
  /** The unit embedding; empty where only the features-only model is fitted. */
  embedding: Float32Array;
}

export interface Softmax {
  weights: number[][];
  bias: number[];
  l2: number;
}

/** How inputs are made from an example: features and embedding centred and scaled on a training set. */
export type InputKind = 'withEmbedding' | 'featuresOnly';

export interface Scaling {
  featureMean: readonly number[];
  featureStd: readonly number[];
  embeddingMean: readonly number[];
  embeddingScale: number;
}

/** Minimises balanced cross-entropy + l2/2·|W|² by gradient descent; the bias is not penalised. */
export function fit(inputs: readonly Float32Array[], labels: readonly number[], l2: number): Softmax {
  const classes = TIERS.length;
  const width = inputs[0].length;
  const perClass = Array.from({ length: classes }, (_, tier) => labels.filter((label) => label === tier).length);
  // Each tier carries the same total weight, so 200 simple items do not drown 20 brand ones.
  const itemWeight = labels.map((label) => inputs.length / (classes * Math.max(1, perClass[label])));
  const weightSum = itemWeight.reduce((sum, weight) => sum + weight, 0);
  const learningRate = stepSize(inputs, itemWeight, weightSum, l2);
  const weights = Array.from({ length: classes }, () => new Float64Array(width));
  const bias = new Float64Array(classes);
  const gradient = Array.from({ length: classes }, () => new Float64Array(width));
  const biasGradient = new Float64Array(classes);
  for (let iteration = 0; iteration < ITERATIONS; iteration += 1) {
    gradient.forEach((row) => row.fill(0));
    biasGradient.fill(0);
    inputs.forEach((input, index) => {
      const probabilities = predict({ weights, bias }, input);
      for (let tier = 0; tier < classes; tier += 1) {
        const error = (itemWeight[index] * (probabilities[tier] - Number(labels[index] === tier))) / weightSum;
        if (error === 0) continue;
        const row = gradient[tier];
        for (let column = 0; column < width; column += 1) row[column] += error * input[column];
        biasGradient[tier] += error;
      }
    });
    for (let tier = 0; tier < classes; tier += 1) {
      const row = weights[tier];
      for (let column = 0; column < width; column += 1) row[column] -= learningRate * (gradient[tier][column] + l2 * row[column]);
      bias[tier] -= learningRate * biasGradient[tier];
    }
  }
  return { weights: weights.map((row) => Array.from(row)), bias: Array.from(bias), l2 };
}

/**
 * 1/L for the loss's gradient: Böhning's bound puts the softmax Hessian under ½·E[x̃x̃ᵀ] (x̃ = x
 * with a 1 for the bias), whose largest eigenvalue power iteration finds. A fixed, safe step.
 */
function stepSize(inputs: readonly Float32Array[], itemWeight: readonly number[], weightSum: number, l2: number): number {
  const width = inputs[0].length + 1;
  let vector = new Float64Array(width).fill(1 / Math.sqrt(width));
  let eigenvalue = 0;
  for (let round = 0; round < 50; round += 1) {
    const next = new Float64Array(width);
    inputs.forEach((input, index) => {
      let dot = vector[width - 1];
      for (let column = 0; column < input.length; column += 1) dot += input[column] * vector[column];
      const scaled = (itemWeight[index] * dot) / weightSum;
      for (let column = 0; column < input.length; column += 1) next[column] += scaled * input[column];
      next[width - 1] += scaled;
    });
    eigenvalue = Math.hypot(...next);
    vector = next.map((value) => value / eigenvalue);
  }
  return 1 / (0.5 * eigenvalue + l2);
}

export const argmax = (values: ArrayLike<number>) => {
  let best = 0;
  for (let index = 1; index < values.length; index += 1) if (values[index] > values[best]) best = index;
  return best;
};

/** Stratified folds: within each tier, items in id order are dealt round-robin. */
function foldOf(examples: readonly TrainingExample[]): number[] {
  const folds = new Array<number>(examples.length);
  const dealt = new Map<number, number>();
  examples.forEach((example, index) => {
    const next = dealt.get(example.label) ?? 0;
    folds[index] = next % FOLDS;
    dealt.set(example.label, next + 1);
  });
  return folds;
}

export function scalingOf(examples: readonly TrainingExample[]): Scaling {
  const mean = (width: number, row: (example: TrainingExample) => Float32Array) =>
    Array.from({ length: width }, (_, column) => examples.reduce((sum, example) => sum + row(example)[column], 0) / examples.length);
  const featureMean = mean(featureNames.length, (example) => example.features);
  const featureStd = featureNames.map((_, column) => {
    const variance = examples.reduce((sum, example) => sum + (example.features[column] - featureMean[column]) ** 2, 0) / examples.length;
    // A feature constant on the training items is left unscaled rather than divided by zero.
    return variance > 1e-8 ? Math.sqrt(variance) : 1;
  });
  const dimension = examples[0].embedding.length;
  const embeddingMean = mean(dimension, (example) => example.embedding);
  // One scale for every dimension keeps the embedding's geometry; it only evens the step sizes.
  const spread = examples.reduce((sum, example) => sum + example.embedding.reduce((inner, value, column) => inner + (value - embeddingMean[column]) ** 2, 0), 0);
  const embeddingScale = Math.sqrt(spread / (examples.length * dimension)) || 1;
  return { featureMean, featureStd, embeddingMean, embeddingScale };
}

export function inputOf(kind: InputKind, example: TrainingExample, scaling: Scaling): Float32Array {
  const features = example.features.map((value, index) => (value - scaling.featureMean[index]) / scaling.featureStd[index]);
  if (kind === 'featuresOnly') return features;
  return joinInput(example.embedding.map((value, index) => (value - scaling.embeddingMean[index]) / scaling.embeddingScale), features);
}

/** Out-of-fold predicted tier index per example, for one L2 strength. */
export function crossValidate(examples: readonly TrainingExample[], kind: InputKind, l2: number): number[] {
  const folds = foldOf(examples);
  const predicted = new Array<number>(examples.length);
  for (let fold = 0; fold < FOLDS; fold += 1) {
    const training = examples.filter((_, index) => folds[index] !== fold);
    // Scaling is refitted per fold too, so nothing of the validation fold leaks in.
    const scaling = scalingOf(training);
    const model = fit(
      training.map((example) => inputOf(kind, example, scaling)),
      training.map((example) => example.label),
      l2,
    );
    examples.forEach((example, index) => {
      if (folds[index] === fold) predicted[index] = argmax(predict(model, inputOf(kind, example, scaling)));
    });
  }
  return predicted;
}

export function accuracy(examples: readonly TrainingExample[], predicted: readonly number[]): number {
  return examples.filter((example, index) => example.label === predicted[index]).length / examples.length;
}

/** The hard rules applied after the model, as the classifier applies them at run time. */
export function applyRules(rules: readonly HardRule[], example: TrainingExample, index: number): number {
  for (const rule of rules) {
    const forced = HARD_RULES[rule](example.features, TIERS[index]);
    if (forced) return TIERS.indexOf(forced);
  }
  return index;
}

/** Predicted tier index per example: the model, then the rules. */
export function predictTiers(model: Pick<Softmax, 'weights' | 'bias'>, kind: InputKind, rules: readonly HardRule[], examples: readonly TrainingExample[], scaling: Scaling): number[] {
  return examples.map((example) => applyRules(rules, example, argmax(predict(model, inputOf(kind, example, scaling)))));
}

const SIGNIFICANT_DIGITS = 5;
export const roundWeight = (value: number) => Number(value.toPrecision(SIGNIFICANT_DIGITS));
/** Five significant digits: the artefact stays small and diffs stay readable. */
export const rounded = (softmax: Softmax): Softmax => ({ weights: softmax.weights.map((row) => row.map(roundWeight)), bias: softmax.bias.map(roundWeight), l2: softmax.l2 });
