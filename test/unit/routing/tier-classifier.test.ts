import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../adapters/spec/index.js';
import { featureNames, promptFeatures } from '../../../src/routing/prompt-features.js';
import { loadTierClassifier, predict } from '../../../src/routing/tier-classifier.js';

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'auto', messages: [{ role: 'user', content }], ...extra });
const sum = (values: ArrayLike<number>) => Array.from(values).reduce((total, value) => total + value, 0);

describe('the shipped tier model (src/routing/tier-model.json)', () => {
  const classifier = loadTierClassifier();

  it('loads, and matches the features prompt-features.ts computes and the tiers the config knows', () => {
    expect(classifier.model.featureNames).toEqual([...featureNames]);
    expect(classifier.model.tiers).toEqual(['simple', 'medium', 'high', 'creative', 'brand']);
    expect(classifier.model.featuresOnly.weights).toHaveLength(5);
    expect(classifier.model.withEmbedding.weights[0]).toHaveLength(classifier.model.embeddingDim + featureNames.length);
  });

  it('gives probabilities that sum to 1, over the features and over the embedding and features', () => {
    const features = promptFeatures(ask('Explain how a hash map handles collisions, with an example in Go.'));
    const probabilities = predict(classifier.model.featuresOnly, features);
    expect(probabilities).toHaveLength(5);
    expect(sum(probabilities)).toBeCloseTo(1, 12);
    expect(Array.from(probabilities).every((probability) => probability >= 0 && probability <= 1)).toBe(true);
    const wide = Float32Array.from({ length: classifier.model.embeddingDim + featureNames.length }, (_, index) => Math.cos(index));
    expect(sum(predict(classifier.model.withEmbedding, wide))).toBeCloseTo(1, 12);
  });

  it('does not overflow on huge logits: the largest is shifted to zero first', () => {
    const huge = new Float32Array(featureNames.length).fill(1e6);
    const probabilities = predict(classifier.model.featuresOnly, huge);
    expect(Array.from(probabilities).every(Number.isFinite)).toBe(true);
    expect(sum(probabilities)).toBeCloseTo(1, 12);
  });

  it('is deterministic: the same request gets the same verdict, from this instance and from a fresh one', () => {
    const request: ChatRequest = {
      model: 'auto',
      messages: [
        { role: 'system', content: 'You are a careful assistant.' },
        { role: 'user', content: 'Compare bubble sort and merge sort for a list of ten million integers.' },
      ],
    };
    const first = classifier.classify(request);
    expect(classifier.classify(request)).toEqual(first);
    expect(loadTierClassifier().classify(request)).toEqual(first);
    expect(first.confidence).toBeGreaterThan(0);
    expect(first.confidence).toBeLessThanOrEqual(1);
    const embedding = Float32Array.from({ length: classifier.model.embeddingDim }, (_, index) => Math.sin(index));
    expect(classifier.classify(request, embedding)).toEqual(classifier.classify(request, embedding));
  });

  it('leaves the caller\'s embedding untouched', () => {
    const embedding = Float32Array.from({ length: classifier.model.embeddingDim }, (_, index) => index / 100);
    const copy = Float32Array.from(embedding);
    classifier.classify(ask('hello'), embedding);
    expect(embedding).toEqual(copy);
  });
});

describe('a malformed artefact', () => {
  const shipped = loadTierClassifier().model;

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'tier-model', /^tier model: /],
    ['an unknown version', { ...shipped, version: 2 }, /^tier model: version: /],
    ['a missing field', { ...shipped, featuresOnly: undefined }, /^tier model: featuresOnly: /],
    ['an unknown field', { ...shipped, extra: true }, /^tier model: .*extra/],
    ['an unknown hard rule', { ...shipped, rules: ['always-high'] }, /^tier model: rules\.0: /],
    ['features from another prompt-features.ts', { ...shipped, featureNames: [...shipped.featureNames].reverse() }, /^tier model: its featureNames are not prompt-features\.ts's: retrain \(make train\)/],
    ['a missing tier row', { ...shipped, featuresOnly: { ...shipped.featuresOnly, weights: shipped.featuresOnly.weights.slice(1) } }, /^tier model: featuresOnly: one row per tier expected/],
    ['rows of the wrong width', { ...shipped, withEmbedding: { ...shipped.withEmbedding, weights: shipped.withEmbedding.weights.map((row) => row.slice(1)) } }, /^tier model: withEmbedding: rows of \d+ weights expected/],
    ['scaling of the wrong length', { ...shipped, featureMean: shipped.featureMean.slice(1) }, /^tier model: feature scaling has the wrong length/],
  ])('is refused with a message naming what is wrong: %s', (_, artefact, message) => {
    expect(() => loadTierClassifier(artefact)).toThrow(message);
  });
});
