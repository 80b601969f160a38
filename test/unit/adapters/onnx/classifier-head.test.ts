import { describe, expect, it } from 'vitest';
import { activationOf, categoriesOfLabels, highestPerLabel, labelsOf, moderationVerdict, probabilities, textWindows } from '../../../../adapters/onnx/classifier-head.js';
import { MODERATION_CATEGORIES } from '../../../../adapters/spec/index.js';

describe('labelsOf', () => {
  it('reads id2label in index order, whatever order the file lists them in', () => {
    expect(labelsOf({ id2label: { '1': 'POSITIVE', '0': 'NEGATIVE' } }, 'm')).toEqual(['NEGATIVE', 'POSITIVE']);
  });

  it('refuses a config without labels, or with a gap in their numbering', () => {
    expect(() => labelsOf({}, 'classifiers/x')).toThrow('classifiers/x/config.json has no id2label');
    expect(() => labelsOf({ id2label: { '0': 'a', '2': 'b' } }, 'm')).toThrow('id2label must number its labels 0..1');
  });
});

describe('probabilities', () => {
  it('softmaxes a single-label head, without overflow on large logits', () => {
    const [negative, positive] = probabilities(Float32Array.from([1000, 1002]), 'softmax');
    expect(negative + positive).toBeCloseTo(1, 10);
    expect(positive).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
  });

  it('reads each label of a multi-label head on its own (sigmoid)', () => {
    expect(probabilities(Float32Array.from([0, 10, -10]), 'sigmoid').map((value) => Number(value.toFixed(4)))).toEqual([0.5, 1, 0]);
    expect(activationOf({ problem_type: 'multi_label_classification' })).toBe('sigmoid');
    expect(activationOf({ problem_type: 'single_label_classification' })).toBe('softmax');
    expect(activationOf({})).toBe('softmax');
  });
});

describe('moderation categories', () => {
  it('maps the Jigsaw labels of toxic-bert and the toxic/neutral pair by default, case-insensitively', () => {
    expect(categoriesOfLabels(['toxic', 'severe_toxic', 'obscene', 'threat', 'insult', 'identity_hate'], undefined, 'mod')).toEqual([
      ['harassment'],
      ['harassment'],
      ['harassment'],
      ['harassment/threatening', 'violence'],
      ['harassment'],
      ['hate'],
    ]);
    expect(categoriesOfLabels(['Neutral', 'TOXIC'], undefined, 'mod')).toEqual([[], ['harassment']]);
  });

  it('refuses a label that maps to nothing rather than never flagging it, naming the option', () => {
    expect(() => categoriesOfLabels(['neutral', 'spam'], undefined, 'mod')).toThrow('backends.mod.options.categories: the model\'s label "spam"');
    expect(categoriesOfLabels(['neutral', 'spam'], { spam: ['illicit'] }, 'mod')).toEqual([[], ['illicit']]);
  });

  it('scores each category as the highest of its labels and flags it at the threshold; every category is present', () => {
    const verdict = moderationVerdict([0.2, 0.7, 0.4], [[], ['harassment'], ['harassment', 'violence']], 0.5);
    expect(Object.keys(verdict.categories)).toEqual([...MODERATION_CATEGORIES]);
    expect(verdict.category_scores.harassment).toBe(0.7);
    expect(verdict.category_scores.violence).toBe(0.4);
    expect(verdict.category_scores.sexual).toBe(0);
    expect(verdict.categories).toMatchObject({ harassment: true, violence: false, sexual: false });
    expect(verdict.flagged).toBe(true);
    expect(moderationVerdict([0.9, 0.49], [[], ['hate']], 0.5).flagged).toBe(false);
  });
});

describe('textWindows', () => {
  it('keeps a short text whole, and cuts a long one at spaces into pieces that lose nothing', () => {
    expect(textWindows('short text', 100)).toEqual(['short text']);
    const long = Array.from({ length: 400 }, (_, index) => `word${index}`).join(' ');
    const windows = textWindows(long, 300);
    expect(windows.join('')).toBe(long);
    expect(Math.max(...windows.map((window) => window.length))).toBeLessThanOrEqual(300);
    expect(windows.slice(1).every((window) => window.startsWith(' '))).toBe(true);
    expect(textWindows('x'.repeat(700), 300).map((window) => window.length)).toEqual([300, 300, 100]);
  });

  it('keeps the highest probability of each label over the windows', () => {
    expect(highestPerLabel([[0.1, 0.9], [0.8, 0.2]])).toEqual([0.8, 0.9]);
  });
});
