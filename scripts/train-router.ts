/**
 * `make train`: fits the tier classifier (src/routing/tier-classifier.ts) on the TRAIN split of
 * eval/routing/*.jsonl and writes src/routing/tier-model.json. Two softmax models: over
 * [local embedding of routingText ; features], and over the features alone. Plain full-batch
 * gradient descent from zero weights with L2 and balanced class weights, items in id order: the
 * same set gives the same artefact. The L2 strength is chosen by 5-fold cross-validation on the
 * train split; the held-out split is only scored, after everything is fixed.
 *
 *   node --import tsx scripts/train-router.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withLocalEmbedder } from '../eval/local-embedder.js';
import { loadRoutingSet, type LoadedItem } from '../eval/routing/check-set.js';
import { TIERS } from '../eval/routing/set-item.js';
import type { Tier } from '../src/config/schema.js';
import { featureNames, promptFeatures, routingText } from '../src/routing/prompt-features.js';
import { HARD_RULES, joinInput, predict, unitLength, type HardRule, type TierModel } from '../src/routing/tier-classifier.js';

const ARTEFACT = fileURLToPath(new URL('../src/routing/tier-model.json', import.meta.url));
const L2_GRID = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1] as const;
const FOLDS = 5;
const ITERATIONS = 600;
const SIGNIFICANT_DIGITS = 5;

interface Example {
  item: LoadedItem;
  label: number;
  features: Float32Array;
  embedding: Float32Array;
}

interface Softmax {
  weights: number[][];
  bias: number[];
  l2: number;
}

const out = (text = '') => process.stdout.write(`${text}\n`);
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/** Minimises balanced cross-entropy + l2/2·|W|² by gradient descent; the bias is not penalised. */
function fit(inputs: readonly Float32Array[], labels: readonly number[], l2: number): Softmax {
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

const argmax = (values: ArrayLike<number>) => {
  let best = 0;
  for (let index = 1; index < values.length; index += 1) if (values[index] > values[best]) best = index;
  return best;
};

/** Stratified folds: within each tier, items in id order are dealt round-robin. */
function foldOf(examples: readonly Example[]): number[] {
  const folds = new Array<number>(examples.length);
  const dealt = new Map<number, number>();
  examples.forEach((example, index) => {
    const next = dealt.get(example.label) ?? 0;
    folds[index] = next % FOLDS;
    dealt.set(example.label, next + 1);
  });
  return folds;
}

/** How inputs are made from an example: features and embedding centred and scaled on a training set. */
type InputKind = 'withEmbedding' | 'featuresOnly';

interface Scaling {
  featureMean: number[];
  featureStd: number[];
  embeddingMean: number[];
  embeddingScale: number;
}

function scalingOf(examples: readonly Example[]): Scaling {
  const mean = (width: number, row: (example: Example) => Float32Array) =>
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

function inputOf(kind: InputKind, example: Example, scaling: Scaling): Float32Array {
  const features = example.features.map((value, index) => (value - scaling.featureMean[index]) / scaling.featureStd[index]);
  if (kind === 'featuresOnly') return features;
  return joinInput(example.embedding.map((value, index) => (value - scaling.embeddingMean[index]) / scaling.embeddingScale), features);
}

/** Out-of-fold predicted tier index per example, for one L2 strength. */
function crossValidate(examples: readonly Example[], kind: InputKind, l2: number): number[] {
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

function accuracy(examples: readonly Example[], predicted: readonly number[]): number {
  return examples.filter((example, index) => example.label === predicted[index]).length / examples.length;
}

function chooseL2(kind: InputKind, examples: readonly Example[]): { l2: number; outOfFold: number[] } {
  let best: { l2: number; accuracy: number; outOfFold: number[] } | undefined;
  const line: string[] = [];
  for (const l2 of L2_GRID) {
    const outOfFold = crossValidate(examples, kind, l2);
    const score = accuracy(examples, outOfFold);
    line.push(`${l2}: ${percent(score)}`);
    // Ties go to the stronger penalty, the simpler model: hence >=.
    if (!best || score >= best.accuracy) best = { l2, accuracy: score, outOfFold };
  }
  out(`${kind}: ${FOLDS}-fold CV accuracy on train by L2 — ${line.join(', ')} → L2 ${best!.l2}`);
  return best!;
}

/** Rules that raise out-of-fold train accuracy by at least one item are kept; heldout never decides. */
function chooseRules(examples: readonly Example[], outOfFold: readonly number[]): HardRule[] {
  const kept: HardRule[] = [];
  const base = accuracy(examples, outOfFold);
  for (const rule of Object.keys(HARD_RULES) as HardRule[]) {
    const ruled = outOfFold.map((index, position) => TIERS.indexOf(HARD_RULES[rule](examples[position].features, TIERS[index]) ?? TIERS[index]));
    const score = accuracy(examples, ruled);
    const keep = score * examples.length >= base * examples.length + 1;
    out(`rule ${rule}: out-of-fold train accuracy ${percent(base)} → ${percent(score)}: ${keep ? 'kept' : 'dropped'}`);
    if (keep) kept.push(rule);
  }
  return kept;
}

function applyRules(rules: readonly HardRule[], example: Example, index: number): number {
  for (const rule of rules) {
    const forced = HARD_RULES[rule](example.features, TIERS[index]);
    if (forced) return TIERS.indexOf(forced);
  }
  return index;
}

function report(title: string, examples: readonly Example[], predicted: readonly number[]): void {
  out(`\n${title}: accuracy ${percent(accuracy(examples, predicted))} (${examples.length} items); rows = label, columns = predicted`);
  out(`| label \\ predicted | ${TIERS.join(' | ')} |`);
  out(`| --- | ${TIERS.map(() => '---:').join(' | ')} |`);
  TIERS.forEach((tier, label) => {
    const row = TIERS.map((_, column) => examples.filter((example, index) => example.label === label && predicted[index] === column).length);
    out(`| ${tier} | ${row.join(' | ')} |`);
  });
}

const round = (value: number) => Number(value.toPrecision(SIGNIFICANT_DIGITS));
const rounded = (softmax: Softmax): Softmax => ({ weights: softmax.weights.map((row) => row.map(round)), bias: softmax.bias.map(round), l2: softmax.l2 });

async function main(): Promise<number> {
  const set = loadRoutingSet();
  if (set.problems.length > 0) {
    for (const problem of set.problems) process.stderr.write(`routing set: ${problem}\n`);
    return 1;
  }
  const items = [...set.items].sort((left, right) => left.id.localeCompare(right.id));
  const started = performance.now();
  const vectors = await withLocalEmbedder((embedder) => embedder.embed(items.map(routingText)));
  out(`embedded ${items.length} prompts in ${((performance.now() - started) / 1000).toFixed(1)} s (model load included)`);
  const all: Example[] = items.map((item, index) => ({ item, label: TIERS.indexOf(item.tier as Tier), features: promptFeatures(item.request), embedding: unitLength(vectors[index]) }));
  const train = all.filter((example) => example.item.split === 'train');
  const heldout = all.filter((example) => example.item.split === 'heldout');

  const embeddingChoice = chooseL2('withEmbedding', train);
  const featuresChoice = chooseL2('featuresOnly', train);
  const rules = chooseRules(train, embeddingChoice.outOfFold);

  const scaling = scalingOf(train);
  const labels = train.map((example) => example.label);
  const fitted = (kind: InputKind, l2: number) => rounded(fit(train.map((example) => inputOf(kind, example, scaling)), labels, l2));
  const withEmbedding = fitted('withEmbedding', embeddingChoice.l2);
  const featuresOnly = fitted('featuresOnly', featuresChoice.l2);
  const predictions = (model: Softmax, kind: InputKind, examples: readonly Example[]) =>
    examples.map((example) => applyRules(rules, example, argmax(predict(model, inputOf(kind, example, scaling)))));

  report('with embedding, train (in sample)', train, predictions(withEmbedding, 'withEmbedding', train));
  report('with embedding, held-out', heldout, predictions(withEmbedding, 'withEmbedding', heldout));
  report('features only, train (in sample)', train, predictions(featuresOnly, 'featuresOnly', train));
  report('features only, held-out', heldout, predictions(featuresOnly, 'featuresOnly', heldout));

  const artefact: TierModel = {
    version: 1,
    tiers: [...TIERS],
    featureNames: [...featureNames],
    featureMean: scaling.featureMean.map(round),
    featureStd: scaling.featureStd.map(round),
    embeddingDim: train[0].embedding.length,
    embeddingMean: scaling.embeddingMean.map(round),
    embeddingScale: round(scaling.embeddingScale),
    withEmbedding,
    featuresOnly,
    rules,
    trainedOn: { split: 'train', items: train.length, embeddingModel: 'all-MiniLM-L6-v2 (backend local-embeddings)', text: 'routingText', folds: FOLDS, iterations: ITERATIONS },
  };
  writeFileSync(ARTEFACT, `${JSON.stringify(artefact)}\n`);
  out(`\nwrote ${ARTEFACT}`);
  return 0;
}

process.exitCode = await main();
