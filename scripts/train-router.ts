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
import { HARD_RULES, unitLength, type HardRule, type TierModel } from '../src/routing/tier-classifier.js';
import { accuracy, crossValidate, fit, FOLDS, inputOf, ITERATIONS, L2_GRID, predictTiers, rounded, roundWeight, scalingOf, type InputKind, type Softmax, type TrainingExample } from '../src/routing/tier-training.js';

const ARTEFACT = fileURLToPath(new URL('../src/routing/tier-model.json', import.meta.url));

interface Example extends TrainingExample {
  item: LoadedItem;
}

const out = (text = '') => process.stdout.write(`${text}\n`);
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

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

function report(title: string, examples: readonly Example[], predicted: readonly number[]): void {
  out(`\n${title}: accuracy ${percent(accuracy(examples, predicted))} (${examples.length} items); rows = label, columns = predicted`);
  out(`| label \\ predicted | ${TIERS.join(' | ')} |`);
  out(`| --- | ${TIERS.map(() => '---:').join(' | ')} |`);
  TIERS.forEach((tier, label) => {
    const row = TIERS.map((_, column) => examples.filter((example, index) => example.label === label && predicted[index] === column).length);
    out(`| ${tier} | ${row.join(' | ')} |`);
  });
}

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
  const predictions = (model: Softmax, kind: InputKind, examples: readonly Example[]) => predictTiers(model, kind, rules, examples, scaling);

  report('with embedding, train (in sample)', train, predictions(withEmbedding, 'withEmbedding', train));
  report('with embedding, held-out', heldout, predictions(withEmbedding, 'withEmbedding', heldout));
  report('features only, train (in sample)', train, predictions(featuresOnly, 'featuresOnly', train));
  report('features only, held-out', heldout, predictions(featuresOnly, 'featuresOnly', heldout));

  const artefact: TierModel = {
    version: 1,
    tiers: [...TIERS],
    featureNames: [...featureNames],
    featureMean: scaling.featureMean.map(roundWeight),
    featureStd: scaling.featureStd.map(roundWeight),
    embeddingDim: train[0].embedding.length,
    embeddingMean: scaling.embeddingMean.map(roundWeight),
    embeddingScale: roundWeight(scaling.embeddingScale),
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
