import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ChatRequest } from '../../adapters/spec/index.js';
import { TIERS, type Config, type Tier } from '../config/schema.js';
import { promptFeatures } from '../routing/prompt-features.js';
import { loadTierClassifier, type TierModel } from '../routing/tier-classifier.js';
import { accuracy, fit, inputOf, predictTiers, rounded, type Scaling, type Softmax, type TrainingExample } from '../routing/tier-training.js';
import type { SqlSession } from '../store/sql-database.js';

/**
 * Re-training the tier classifier from the log (the optimizer's third job). A labelled example is
 * a request whose tier the log now knows better than the classifier did: a local answer rated
 * poor (feedback under 0.5, or a shadow label under `agreement_good`) to a request routed
 * `simple` (or `medium`) says it should have gone one tier higher; one rated good confirms its
 * tier. The prompt is the log's own `input_text` (storage.log_text full or truncated; a hashed
 * or absent text is no example: nothing is stored for this). The log keeps no prompt embedding,
 * and the gateway routes with the features-only model, so that model is the one re-fitted — on
 * the shipped set's train split plus the new examples, at the shipped L2 and feature scaling (the
 * embedding model keeps its inputs) — and scored on the shipped held-out split.
 */

/** One tier up, for a poor answer: where there is a harder tier to go to. */
const HIGHER: Partial<Record<Tier, Tier>> = { simple: 'medium', medium: 'high' };

export interface LoggedExample {
  requestId: string;
  routedTier: Tier;
  /** What the labels say the tier should have been. */
  tier: Tier;
  text: string;
}

export interface ShippedSet {
  train: TrainingExample[];
  heldout: TrainingExample[];
}

/** What a proposal says of the classifier: the held-out accuracy before and after, the examples behind it. */
export interface ClassifierEvidence {
  new_examples: number;
  /** `simple→medium`: examples the labels moved up; `medium`: ones they confirmed. */
  examples_by_label: Record<string, number>;
  heldout_items: number;
  /** The classifier the re-fit is measured against: `shipped`, or the `optimizer v<n>` re-fit in force. */
  in_force: string;
  accuracy_before: number;
  accuracy_after: number | null;
  accepted: boolean;
  reason: string;
}

export interface RetrainResult {
  evidence: ClassifierEvidence;
  /** The re-fitted features-only model; only when accepted. */
  featuresOnly?: Softmax;
}

const itemSchema = z.object({
  id: z.string(),
  split: z.enum(['train', 'heldout']),
  tier: z.enum(TIERS),
  messages: z.array(z.record(z.string(), z.unknown())).min(1),
  tools: z.array(z.record(z.string(), z.unknown())).optional(),
  response_format: z.record(z.string(), z.unknown()).optional(),
});

const featuresExample = (label: Tier, request: ChatRequest): TrainingExample => ({ label: TIERS.indexOf(label), features: promptFeatures(request), embedding: new Float32Array(0) });

/** The routing set (eval/routing/*.jsonl) `make train` fits on, split as it ships, items in id order. */
export function readShippedSet(dir: string): ShippedSet {
  if (!existsSync(dir)) throw new Error(`the routing set ${resolve(dir)} (learning.optimizer.retrain.set_dir) is not there`);
  const items = readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) =>
      readFileSync(join(dir, name), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => itemSchema.parse(JSON.parse(line))),
    )
    .sort((left, right) => left.id.localeCompare(right.id));
  const example = (item: z.infer<typeof itemSchema>) => featuresExample(item.tier, { model: 'auto', messages: item.messages, tools: item.tools, response_format: item.response_format } as unknown as ChatRequest);
  const set = { train: items.filter((item) => item.split === 'train').map(example), heldout: items.filter((item) => item.split === 'heldout').map(example) };
  if (set.train.length === 0 || set.heldout.length === 0) throw new Error(`the routing set ${resolve(dir)} has ${set.train.length} train and ${set.heldout.length} held-out items: a re-fit needs both`);
  return set;
}

/** Labelled local answers of the window with their prompt text, one example per request (a poor label wins). */
export async function readLoggedExamples(database: SqlSession, since: Date, agreementGood: number): Promise<LoggedExample[]> {
  const { rows } = await database.query<{ request_id: string; tier: string; input_text: string; good: boolean }>(
    `select m.request_id, m.tier, m.input_text, (f.score >= 0.5) as good
       from feedback f join model_inferences m on m.request_id = f.request_id
      where m.route = 'local' and m.outcome = 'answered' and m.tier is not null and m.input_text is not null and m.created_at >= $1
     union all
     select m.request_id, m.tier, m.input_text, (s.agreement >= $2) as good
       from shadow_labels s join model_inferences m on m.request_id = s.request_id
      where s.agreement is not null and m.route = 'local' and m.outcome = 'answered' and m.tier is not null and m.input_text is not null and m.created_at >= $1
     order by 1`,
    [since.toISOString(), agreementGood],
  );
  const byRequest = new Map<string, LoggedExample>();
  for (const row of rows) {
    const routed = row.tier as Tier;
    // storage.log_text: hashed keeps no prompt to learn from.
    if (!TIERS.includes(routed) || row.input_text.startsWith('sha256:') || row.input_text.trim() === '') continue;
    const tier = row.good === true ? routed : HIGHER[routed];
    if (!tier) continue;
    const seen = byRequest.get(row.request_id);
    if (seen && seen.tier !== seen.routedTier) continue;
    byRequest.set(row.request_id, { requestId: row.request_id, routedTier: routed, tier, text: row.input_text });
  }
  return [...byRequest.values()];
}

/** The logged text as the classifier reads a request: the log keeps the turns' text, one per line, without roles. */
export const loggedRequest = (text: string): ChatRequest => ({ model: 'auto', messages: [{ role: 'user', content: text }] }) as ChatRequest;

/** The features-only model routing uses now, where an earlier proposal put its re-fit in force. */
export interface ClassifierInForce {
  version: string;
  model: Softmax;
}

export interface RetrainInput {
  shipped: TierModel;
  set: ShippedSet;
  logged: readonly LoggedExample[];
  /** Fewer new examples than this: no re-fit. */
  minExamples: number;
  /** What the re-fit must not be worse than; the shipped model when absent. */
  inForce?: ClassifierInForce;
}

/**
 * Re-fits the features-only model and keeps it only when held-out accuracy does not drop below
 * the classifier in force. Every re-fit starts from the shipped train split, not from an earlier
 * re-fit, so old windows' labels do not pile up: the in-force model is only the bar to clear.
 */
export function retrainClassifier(input: RetrainInput): RetrainResult {
  const { shipped, set, logged, minExamples } = input;
  const inForce = input.inForce ?? { version: 'shipped', model: shipped.featuresOnly };
  const scaling: Scaling = { featureMean: shipped.featureMean, featureStd: shipped.featureStd, embeddingMean: [], embeddingScale: 1 };
  const scored = (model: Pick<Softmax, 'weights' | 'bias'>) => accuracy(set.heldout, predictTiers(model, 'featuresOnly', shipped.rules, set.heldout, scaling));
  const before = round(scored(inForce.model));
  const byLabel: Record<string, number> = {};
  for (const example of logged) {
    const key = example.tier === example.routedTier ? example.tier : `${example.routedTier}→${example.tier}`;
    byLabel[key] = (byLabel[key] ?? 0) + 1;
  }
  const evidence = { new_examples: logged.length, examples_by_label: byLabel, heldout_items: set.heldout.length, in_force: inForce.version, accuracy_before: before };
  if (logged.length < minExamples) {
    return { evidence: { ...evidence, accuracy_after: null, accepted: false, reason: `${logged.length} labelled examples with a prompt, fewer than the ${minExamples} a re-fit needs: the classifier stays` } };
  }
  const examples = [...set.train, ...logged.map((example) => featuresExample(example.tier, loggedRequest(example.text)))];
  const model = rounded(
    fit(
      examples.map((example) => inputOf('featuresOnly', example, scaling)),
      examples.map((example) => example.label),
      shipped.featuresOnly.l2,
    ),
  );
  const after = round(scored(model));
  if (after < before) {
    return { evidence: { ...evidence, accuracy_after: after, accepted: false, reason: `re-fitted on ${set.train.length} shipped + ${logged.length} logged examples, held-out accuracy would drop ${pct(before)} → ${pct(after)}: the classifier stays` } };
  }
  // The same window's examples give the same weights (the fit is deterministic): nothing to change.
  if (sameWeights(model, inForce.model)) {
    return { evidence: { ...evidence, accuracy_after: after, accepted: false, reason: `the re-fit on ${logged.length} logged examples is the classifier in force (${inForce.version}) already` } };
  }
  return {
    evidence: { ...evidence, accuracy_after: after, accepted: true, reason: `re-fitted on ${set.train.length} shipped + ${logged.length} logged examples; held-out accuracy ${pct(before)} → ${pct(after)}` },
    featuresOnly: model,
  };
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;
const sameWeights = (left: Softmax, right: Softmax) => JSON.stringify([left.weights, left.bias]) === JSON.stringify([right.weights, right.bias]);
const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

/** What the optimizer re-trains from; `why` instead when it cannot. */
export interface RetrainSource {
  shipped: TierModel;
  set: ShippedSet;
  minExamples: number;
  inForce?: ClassifierInForce;
}

/** Where this package is installed: set_dir may be relative to it (a CLI run from another directory). */
const PACKAGE_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

/** A relative set_dir: against the working directory first, then the package root; the first that exists. */
export function resolveSetDir(setDir: string, cwd: string = process.cwd()): string {
  if (isAbsolute(setDir)) return setDir;
  const candidates = [resolve(cwd, setDir), resolve(PACKAGE_ROOT, setDir)];
  return candidates.find((candidate) => existsSync(candidate)) ?? candidates[0];
}

/**
 * The shipped model and set `learning.optimizer.retrain` names, read once, on the first proposal;
 * a reason instead (retrain off, the rules classifier, no set where set_dir points), which the
 * proposal lists under not_done.
 */
export function retrainSourceFor(config: Config): () => RetrainSource | { why: string } {
  const settings = config.learning.optimizer.retrain;
  let source: RetrainSource | { why: string } | undefined;
  return () => {
    if (source) return source;
    if (!settings.enabled) source = { why: 'learning.optimizer.retrain.enabled is false' };
    else if (config.routing.classifier !== 'trained') source = { why: `routing.classifier is "${config.routing.classifier}": there is no trained classifier to re-fit` };
    else {
      try {
        source = { shipped: loadTierClassifier().model, set: readShippedSet(resolveSetDir(settings.set_dir)), minExamples: settings.min_examples };
      } catch (error) {
        source = { why: (error as Error).message };
      }
    }
    return source;
  };
}
