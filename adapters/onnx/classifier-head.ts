import { MODERATION_CATEGORIES, type ModerationCategory, type ModerationVerdict } from '../spec/index.js';

/**
 * What a text classifier's logits mean, and the arithmetic that turns them into answers. Pure,
 * so it is tested without a model.
 */

export type Activation = 'softmax' | 'sigmoid';

/** The parts of a Hugging Face config.json a classification head is described by. */
export interface ClassifierConfig {
  id2label?: Record<string, string>;
  problem_type?: string;
}

/**
 * The label of each logit, in order, from config.json's `id2label` ({"0": "NEGATIVE", "1":
 * "POSITIVE"}); without it the model's outputs cannot be named, so it cannot be served.
 */
export function labelsOf(config: ClassifierConfig, modelDir: string): string[] {
  const entries = Object.entries(config.id2label ?? {});
  if (entries.length === 0) throw new Error(`${modelDir}/config.json has no id2label: which label is each output?`);
  const labels: string[] = [];
  for (const [index, label] of entries) labels[Number(index)] = label;
  if (labels.length !== entries.length || labels.some((label) => typeof label !== 'string')) {
    throw new Error(`${modelDir}/config.json: id2label must number its labels 0..${entries.length - 1}`);
  }
  return labels;
}

/**
 * A multi-label model (toxic-bert: toxic, insult, threat… each its own yes/no) is read with a
 * sigmoid per logit, as transformers' pipeline does when config.json says
 * `problem_type: multi_label_classification`; a single-label one (SST-2, a toxic/neutral
 * RoBERTa) with a softmax over its logits.
 */
export function activationOf(config: ClassifierConfig): Activation {
  return config.problem_type === 'multi_label_classification' ? 'sigmoid' : 'softmax';
}

/** One probability per logit. */
export function probabilities(logits: Float32Array, activation: Activation): number[] {
  const values = Array.from(logits);
  if (activation === 'sigmoid') return values.map((value) => 1 / (1 + Math.exp(-value)));
  const highest = Math.max(...values);
  const exponentials = values.map((value) => Math.exp(value - highest)); // shifted: no overflow
  const sum = exponentials.reduce((total, value) => total + value, 0);
  return exponentials.map((value) => value / sum);
}

export function scoresByLabel(labels: readonly string[], probabilitiesInOrder: readonly number[]): Record<string, number> {
  return Object.fromEntries(labels.map((label, index) => [label, probabilitiesInOrder[index]]));
}

/**
 * Which OpenAI categories each of a toxicity model's labels stands for, by label, compared
 * case-insensitively: the Jigsaw labels of toxic-bert and the toxic/neutral pair of
 * s-nlp/roberta_toxicity_classifier. A model with other labels names them in `categories`.
 */
export const DEFAULT_CATEGORY_MAP: Readonly<Record<string, readonly ModerationCategory[]>> = {
  toxic: ['harassment'],
  toxicity: ['harassment'],
  severe_toxic: ['harassment'],
  severe_toxicity: ['harassment'],
  insult: ['harassment'],
  obscene: ['harassment'],
  threat: ['harassment/threatening', 'violence'],
  identity_hate: ['hate'],
  identity_attack: ['hate'],
  sexual_explicit: ['sexual'],
};

/** Labels that mean "nothing wrong": they feed no category. */
export const BENIGN_LABELS: readonly string[] = ['neutral', 'non-toxic', 'non_toxic', 'not_toxic', 'clean', 'safe', 'ok'];

export type CategoryMap = Readonly<Record<string, readonly ModerationCategory[]>>;

/**
 * The categories each label feeds, for this model's labels; a label neither mapped nor benign
 * is a configuration error, named, rather than a harm that is silently never flagged.
 */
export function categoriesOfLabels(labels: readonly string[], configured: CategoryMap | undefined, backendId: string): (readonly ModerationCategory[])[] {
  const map = new Map(Object.entries(configured ?? DEFAULT_CATEGORY_MAP).map(([label, categories]) => [label.toLowerCase(), categories]));
  return labels.map((label) => {
    const categories = map.get(label.toLowerCase());
    if (categories) return categories;
    if (BENIGN_LABELS.includes(label.toLowerCase())) return [];
    throw new Error(`backends.${backendId}.options.categories: the model's label "${label}" maps to no moderation category (list it, with [] if it means no harm)`);
  });
}

/** OpenAI's verdict for one text: each category scores the highest of its labels, and is flagged at `threshold`. */
export function moderationVerdict(probabilitiesInOrder: readonly number[], labelCategories: readonly (readonly ModerationCategory[])[], threshold: number): ModerationVerdict {
  const scores = Object.fromEntries(MODERATION_CATEGORIES.map((category) => [category, 0])) as Record<ModerationCategory, number>;
  labelCategories.forEach((categories, index) => {
    for (const category of categories) scores[category] = Math.max(scores[category], probabilitiesInOrder[index]);
  });
  const categories = Object.fromEntries(MODERATION_CATEGORIES.map((category) => [category, scores[category] >= threshold])) as Record<ModerationCategory, boolean>;
  return { flagged: Object.values(categories).some(Boolean), categories, category_scores: scores };
}

/**
 * A long text in pieces that each fit the model's view, cut at whitespace: a classifier sees at
 * most max_length tokens, and moderation must not pass a text whose harm comes after them.
 * `maxChars` is a safe fraction of that view (WordPiece and BPE average over 4 characters a token
 * in English); a piece denser than that is still cut by the tokenizer, as a single text would be.
 */
export function textWindows(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text];
  const windows: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + maxChars);
    if (end < text.length) {
      const space = text.lastIndexOf(' ', end);
      if (space > start + maxChars / 2) end = space;
    }
    windows.push(text.slice(start, end));
    start = end;
  }
  return windows;
}

/** Per label, the highest probability of any window of the text. */
export function highestPerLabel(windows: readonly (readonly number[])[]): number[] {
  return windows[0].map((_, label) => Math.max(...windows.map((window) => window[label])));
}
