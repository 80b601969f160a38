import { z } from 'zod';
import type { ChatRequest } from '../../adapters/spec/index.js';
import { TIERS, type Tier } from '../config/schema.js';
import { featureNames, promptFeatures } from './prompt-features.js';
import shippedModel from './tier-model.json' with { type: 'json' };

export interface TierVerdict {
  tier: Tier;
  /** For `x-sluice-route-reason`: the model, its pick and confidence, the cues that pushed it there. */
  reason: string;
  /** The chosen tier's probability, 0..1 (1 where a hard rule decided). */
  confidence: number;
}

const softmaxSchema = z.strictObject({
  /** One row per tier, in `tiers` order; each row as long as the model's input. */
  weights: z.array(z.array(z.number())),
  bias: z.array(z.number()),
  /** The L2 strength cross-validation chose on the train split: a record, not used at run time. */
  l2: z.number(),
});

/** The artefact scripts/train-router.ts writes (`make train`). */
export const tierModelSchema = z.strictObject({
  version: z.literal(1),
  tiers: z.array(z.enum(TIERS)).length(TIERS.length),
  featureNames: z.array(z.string()),
  /** Standardisation of the features, from the train split. */
  featureMean: z.array(z.number()),
  featureStd: z.array(z.number()),
  embeddingDim: z.number().int().positive(),
  /** Centring and one common scale for the unit embedding, from the train split (evens out the training steps). */
  embeddingMean: z.array(z.number()),
  embeddingScale: z.number().positive(),
  /** Over [unit embedding ; standardised features]. */
  withEmbedding: softmaxSchema,
  /** Over the standardised features alone: when no embedding model is loaded. */
  featuresOnly: softmaxSchema,
  /** The hard rules that helped on the train split's out-of-fold predictions, applied after the model. */
  rules: z.array(z.enum(['tools-at-least-medium', 'brand-system-prompt'])),
  trainedOn: z.record(z.string(), z.unknown()),
});
export type TierModel = z.infer<typeof tierModelSchema>;
export type HardRule = TierModel['rules'][number];

/** Brand cues in the system prompt at or above this (three or more hits) count as a brand voice. */
const BRAND_SYSTEM_CERTAIN = 0.6;
const BRAND_SYSTEM_INDEX = featureNames.indexOf('brand-system');
const TOOLS_INDEX = featureNames.indexOf('tools');
/** Cues named in the reason: the strongest few, so the header stays short. */
const REASON_CUES = 2;

/** Each rule: the tier it forces, or undefined to leave the model's pick. */
export const HARD_RULES: Readonly<Record<HardRule, (features: Float32Array, tier: Tier) => Tier | undefined>> = {
  // A tool call is a plan and a schema to fill: the local model is not trusted with it.
  'tools-at-least-medium': (features, tier) => (features[TOOLS_INDEX] > 0 && tier === 'simple' ? 'medium' : undefined),
  'brand-system-prompt': (features, tier) => (features[BRAND_SYSTEM_INDEX] >= BRAND_SYSTEM_CERTAIN && tier !== 'brand' ? 'brand' : undefined),
};

/**
 * Tier of a routed request: multinomial logistic regression over the prompt's local embedding and
 * the cheap features of prompt-features.ts, or over the features alone when there is no embedding.
 * Pure and fast (two small matrix-vector products): it runs on every routed request.
 */
export class TierClassifier {
  private readonly dimension: number;

  constructor(readonly model: TierModel) {
    const problems = modelProblems(model);
    if (problems.length > 0) throw new Error(`tier model: ${problems.join('; ')}`);
    this.dimension = model.embeddingDim;
  }

  classify(request: ChatRequest, embedding?: Float32Array): TierVerdict {
    const features = promptFeatures(request);
    const standardised = features.map((value, index) => (value - this.model.featureMean[index]) / this.model.featureStd[index]);
    const hasEmbedding = embedding !== undefined && embedding.length === this.dimension;
    const softmax = hasEmbedding ? this.model.withEmbedding : this.model.featuresOnly;
    const input = hasEmbedding ? joinInput(this.centred(embedding), standardised) : standardised;
    const probabilities = predict(softmax, input);
    let best = 0;
    for (let index = 1; index < probabilities.length; index += 1) if (probabilities[index] > probabilities[best]) best = index;
    const modelTier = this.model.tiers[best];
    const offset = hasEmbedding ? this.dimension : 0;
    const cues = strongestCues(softmax.weights[best], standardised, features, offset);
    const label = `${hasEmbedding ? 'classifier' : 'classifier-features'}:${modelTier}(${probabilities[best].toFixed(2)})`;
    for (const rule of this.model.rules) {
      const forced = HARD_RULES[rule](features, modelTier);
      if (forced) return { tier: forced, reason: `rule:${rule};${label}`, confidence: 1 };
    }
    return { tier: modelTier, reason: cues.length > 0 ? `${label};${cues.join(',')}` : label, confidence: probabilities[best] };
  }

  private centred(embedding: Float32Array): Float32Array {
    const unit = unitLength(embedding);
    const { embeddingMean, embeddingScale } = this.model;
    for (let index = 0; index < unit.length; index += 1) unit[index] = (unit[index] - embeddingMean[index]) / embeddingScale;
    return unit;
  }
}

/** The shipped artefact (src/routing/tier-model.json), or one the caller has read and parsed itself. */
export function loadTierClassifier(artefact: unknown = shippedModel): TierClassifier {
  const parsed = tierModelSchema.safeParse(artefact);
  if (!parsed.success) throw new Error(`tier model: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return new TierClassifier(parsed.data);
}

function modelProblems(model: TierModel): string[] {
  const features = featureNames.length;
  const problems: string[] = [];
  if (model.featureNames.join() !== featureNames.join()) problems.push('its featureNames are not prompt-features.ts\'s: retrain (make train)');
  if (model.featureMean.length !== features || model.featureStd.length !== features) problems.push('feature scaling has the wrong length');
  if (model.embeddingMean.length !== model.embeddingDim) problems.push('embeddingMean has the wrong length');
  const shapes: [string, TierModel['featuresOnly'], number][] = [
    ['withEmbedding', model.withEmbedding, model.embeddingDim + features],
    ['featuresOnly', model.featuresOnly, features],
  ];
  for (const [name, softmax, width] of shapes) {
    if (softmax.weights.length !== model.tiers.length || softmax.bias.length !== model.tiers.length) problems.push(`${name}: one row per tier expected`);
    if (softmax.weights.some((row) => row.length !== width)) problems.push(`${name}: rows of ${width} weights expected`);
  }
  return problems;
}

/** Probabilities per tier: softmax of W·x + b, shifted by the largest logit so nothing overflows. */
export function predict(softmax: { weights: readonly ArrayLike<number>[]; bias: ArrayLike<number> }, input: ArrayLike<number>): Float64Array {
  const logits = new Float64Array(softmax.bias.length);
  let largest = -Infinity;
  for (let row = 0; row < logits.length; row += 1) {
    const weights = softmax.weights[row];
    let sum = softmax.bias[row];
    for (let column = 0; column < input.length; column += 1) sum += weights[column] * input[column];
    logits[row] = sum;
    if (sum > largest) largest = sum;
  }
  let total = 0;
  for (let row = 0; row < logits.length; row += 1) {
    logits[row] = Math.exp(logits[row] - largest);
    total += logits[row];
  }
  for (let row = 0; row < logits.length; row += 1) logits[row] /= total;
  return logits;
}

export function unitLength(vector: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let index = 0; index < vector.length; index += 1) norm += vector[index] * vector[index];
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return Float32Array.from(vector as ArrayLike<number>, (value) => value * scale);
}

export function joinInput(embedding: Float32Array, features: Float32Array): Float32Array {
  const input = new Float32Array(embedding.length + features.length);
  input.set(embedding);
  input.set(features, embedding.length);
  return input;
}

/** Present features that pushed hardest towards the chosen tier, by name. */
function strongestCues(weights: readonly number[], standardised: Float32Array, raw: Float32Array, offset: number): string[] {
  const pushes: { name: string; push: number }[] = [];
  standardised.forEach((value, index) => {
    const push = weights[offset + index] * value;
    if (raw[index] > 0 && push > 0) pushes.push({ name: featureNames[index], push });
  });
  return pushes
    .sort((left, right) => right.push - left.push)
    .slice(0, REASON_CUES)
    .map((cue) => cue.name);
}
