import { TIERS, type Config, type Tier } from '../config/schema.js';
import type { RoutingSettings } from '../routing/routing-state.js';
import type { Softmax } from '../routing/tier-training.js';
import type { SqlSession } from '../store/sql-database.js';
import { readLoggedExamples, retrainClassifier, type ClassifierEvidence, type RetrainSource } from './classifier-retrain.js';
import { evaluateThreshold, fitThreshold, type ThresholdFit } from './threshold-fit.js';

export interface OptimizerSettings {
  windowDays: number;
  minLabels: number;
  /** A shadow label is good at this agreement or more. */
  agreementGood: number;
  vendorQuality: number;
  qualityTarget: number;
  localShareBounds: readonly [number, number];
  localShareStep: number;
  qualityMargin: number;
}

export function optimizerSettingsOf(config: Config): OptimizerSettings {
  const optimizer = config.learning.optimizer;
  return {
    windowDays: optimizer.window_days,
    minLabels: optimizer.min_labels,
    agreementGood: optimizer.agreement_good,
    vendorQuality: optimizer.vendor_quality,
    qualityTarget: config.targets.quality,
    localShareBounds: optimizer.local_share_bounds,
    localShareStep: optimizer.local_share_step,
    qualityMargin: optimizer.quality_margin,
  };
}

export interface TierEvidence {
  tier: Tier;
  /** Local attempts of the tier in the window: served, and escalated to a vendor. */
  localAnswered: number;
  localEscalated: number;
  labels: { feedback: number; shadow: number; good: number };
  current: { threshold: number; escalation_rate: number; expected_quality: number };
  proposed: { threshold: number; escalation_rate: number; expected_quality: number };
  reason: string;
}

export interface ProposalChange {
  /** For `tier_classifier`, from/to are the held-out accuracy of the classifier in force and of the re-fitted one. */
  setting: 'escalation_threshold' | 'local_share' | 'tier_classifier';
  tier?: Tier;
  from: number;
  to: number;
  /** Over every chat request of the window; null when the log holds no vendor cost to go by. */
  expected_cost_per_request_delta_usd: number | null;
  expected_quality_delta: number;
  reason: string;
}

export interface Proposal {
  /** Given by the proposal store when the proposal is saved; 0 for a dry run. */
  version: number;
  created_at: string;
  window: { from: string; to: string; days: number };
  evidence: {
    requests: number;
    vendor_cost_per_escalation_usd: number | null;
    tiers: TierEvidence[];
    local_share: { current: number; labelled_quality_at_proposed_thresholds: number | null; labels: number };
    /** The tier classifier's re-fit; null when it was not attempted (not_done says why). */
    classifier: ClassifierEvidence | null;
  };
  changes: ProposalChange[];
  /** The re-fitted features-only model, when the proposal changes the classifier. */
  classifier_model?: Softmax;
  not_done: string[];
}

interface LabelRow {
  tier: string;
  score: number;
  source: 'feedback' | 'shadow';
  good: boolean;
}

/**
 * Labels of local answers that were served, joined to the local attempt's tier and quality score.
 * Feedback: the caller's score (good at 0.5 or more) on a request whose served answer was local.
 * Shadow: the agreement of the local answer with the premium model's answer to the same request
 * (good at `agreementGood` or more). The validator's own quality_score cannot be the label: it is
 * the very score the threshold cuts on, so a fit against it would only confirm itself (every
 * answer above the threshold "good" by construction); a label has to come from outside it.
 */
async function readLabels(database: SqlSession, since: Date, agreementGood: number): Promise<LabelRow[]> {
  const { rows } = await database.query<{ tier: string; score: number | string; source: 'feedback' | 'shadow'; good: boolean }>(
    `select m.tier, m.quality_score as score, 'feedback' as source, (f.score >= 0.5) as good
       from feedback f
       join model_inferences m on m.request_id = f.request_id
      where m.route = 'local' and m.outcome = 'answered' and m.quality_score is not null and m.tier is not null and m.created_at >= $1
     union all
     select m.tier, m.quality_score as score, 'shadow' as source, (s.agreement >= $2) as good
       from shadow_labels s
       join model_inferences m on m.request_id = s.request_id
      where s.agreement is not null and m.route = 'local' and m.outcome = 'answered' and m.quality_score is not null and m.tier is not null and m.created_at >= $1`,
    [since.toISOString(), agreementGood],
  );
  return rows.map((row) => ({ tier: row.tier, score: Math.round(Number(row.score) * 10_000) / 10_000, source: row.source, good: row.good === true }));
}

interface WindowCounts {
  requests: number;
  perTier: Map<string, { answered: number; escalated: number }>;
  vendorCostPerEscalation: number | undefined;
  vendorCostPerVendorAnswer: number | undefined;
}

async function readCounts(database: SqlSession, since: Date): Promise<WindowCounts> {
  const params = [since.toISOString()];
  const requests = await database.query<{ n: number | string }>(`select count(distinct request_id) as n from model_inferences where created_at >= $1`, params);
  const tiers = await database.query<{ tier: string; answered: number | string; escalated: number | string }>(
    `select tier, count(*) filter (where outcome = 'answered') as answered, count(*) filter (where outcome = 'escalated') as escalated
       from model_inferences where route = 'local' and tier is not null and created_at >= $1 group by tier`,
    params,
  );
  // What the vendors charged, in all, for each request whose local answer was escalated.
  const escalations = await database.query<{ cost: number | string | null }>(
    `select avg(v.cost) as cost from (
       select m.request_id, sum(coalesce(o.cost, 0)) as cost
         from model_inferences m join model_inferences o on o.request_id = m.request_id and o.route not in ('local', 'cache')
        where m.route = 'local' and m.outcome = 'escalated' and m.created_at >= $1
        group by m.request_id) v`,
    params,
  );
  const vendor = await database.query<{ cost: number | string | null }>(
    `select avg(cost) as cost from model_inferences where route not in ('local', 'cache') and outcome = 'answered' and cost is not null and created_at >= $1`,
    params,
  );
  const numberOrUndefined = (value: number | string | null | undefined) => (value === null || value === undefined ? undefined : Number(value));
  return {
    requests: Number(requests.rows[0]?.n ?? 0),
    perTier: new Map(tiers.rows.map((row) => [row.tier, { answered: Number(row.answered), escalated: Number(row.escalated) }])),
    vendorCostPerEscalation: numberOrUndefined(escalations.rows[0]?.cost) ?? numberOrUndefined(vendor.rows[0]?.cost),
    vendorCostPerVendorAnswer: numberOrUndefined(vendor.rows[0]?.cost) ?? numberOrUndefined(escalations.rows[0]?.cost),
  };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const point = (fit: ThresholdFit['current']) => ({ threshold: fit.threshold, escalation_rate: round(fit.escalationRate, 4), expected_quality: round(fit.expectedQuality, 4) });

/** Builds a proposal (version 0: unsaved) from the window ending `now`, against the live settings. */
export async function buildProposal(database: SqlSession, settings: OptimizerSettings, current: RoutingSettings, now: Date = new Date(), retrain: RetrainSource | { why: string } = { why: 'no routing set was given' }): Promise<Proposal> {
  const since = new Date(now.getTime() - settings.windowDays * 86_400_000);
  const [labels, counts] = await Promise.all([readLabels(database, since, settings.agreementGood), readCounts(database, since)]);
  const changes: ProposalChange[] = [];
  const tiers: TierEvidence[] = [];
  const fitted = new Map<string, number>();
  for (const tier of TIERS) {
    const mine = labels.filter((label) => label.tier === tier);
    const local = counts.perTier.get(tier) ?? { answered: 0, escalated: 0 };
    if (mine.length === 0 && local.answered + local.escalated === 0) continue;
    const fit = fitThreshold({ labels: mine, current: current.escalationThresholds[tier], target: settings.qualityTarget, vendorQuality: settings.vendorQuality, minLabels: settings.minLabels });
    fitted.set(tier, fit.proposed.threshold);
    tiers.push({
      tier,
      localAnswered: local.answered,
      localEscalated: local.escalated,
      labels: { feedback: mine.filter((label) => label.source === 'feedback').length, shadow: mine.filter((label) => label.source === 'shadow').length, good: mine.filter((label) => label.good).length },
      current: point(fit.current),
      proposed: point(fit.proposed),
      reason: fit.reason,
    });
    if (!fit.changed) continue;
    // The tier's local attempts are this share of all requests; the rates move only on them.
    const weight = counts.requests > 0 ? (local.answered + local.escalated) / counts.requests : 0;
    const escalationDelta = fit.proposed.escalationRate - fit.current.escalationRate;
    changes.push({
      setting: 'escalation_threshold',
      tier,
      from: fit.current.threshold,
      to: fit.proposed.threshold,
      expected_cost_per_request_delta_usd: counts.vendorCostPerEscalation === undefined ? null : round(escalationDelta * counts.vendorCostPerEscalation * weight, 8),
      expected_quality_delta: round((fit.proposed.expectedQuality - fit.current.expectedQuality) * weight, 4),
      reason: `${tier}: ${fit.reason} (${mine.length} labels; escalation ${pct(fit.current.escalationRate)} → ${pct(fit.proposed.escalationRate)}, expected quality ${fit.current.expectedQuality.toFixed(3)} → ${fit.proposed.expectedQuality.toFixed(3)})`,
    });
  }
  const share = localShareChange(labels, fitted, current, settings, counts);
  if (share.change) changes.push(share.change);
  const classifier = 'why' in retrain ? undefined : retrainClassifier({ ...retrain, logged: await readLoggedExamples(database, since, settings.agreementGood) });
  if (classifier?.featuresOnly) {
    const { evidence } = classifier;
    changes.push({ setting: 'tier_classifier', from: evidence.accuracy_before, to: evidence.accuracy_after!, expected_cost_per_request_delta_usd: null, expected_quality_delta: 0, reason: evidence.reason });
  }
  return {
    version: 0,
    created_at: now.toISOString(),
    window: { from: since.toISOString(), to: now.toISOString(), days: settings.windowDays },
    evidence: {
      requests: counts.requests,
      vendor_cost_per_escalation_usd: counts.vendorCostPerEscalation === undefined ? null : round(counts.vendorCostPerEscalation, 8),
      tiers,
      local_share: { current: current.localShare, labelled_quality_at_proposed_thresholds: share.quality === undefined ? null : round(share.quality, 4), labels: share.labels },
      classifier: classifier?.evidence ?? null,
    },
    changes,
    ...(classifier?.featuresOnly ? { classifier_model: classifier.featuresOnly } : {}),
    not_done: notDone(retrain, classifier?.evidence),
  };
}

const pct = (rate: number) => `${(rate * 100).toFixed(1)}%`;

/** A re-fit not attempted, or attempted and refused, is a job not done: the operator reads why. */
function notDone(retrain: RetrainSource | { why: string }, classifier: ClassifierEvidence | undefined): string[] {
  if ('why' in retrain) return [`re-training the tier classifier: ${retrain.why}`];
  return classifier && !classifier.accepted ? [`re-training the tier classifier: ${classifier.reason}`] : [];
}

/**
 * One step up when the labelled local answers served at the fitted thresholds beat the quality
 * target by the margin, one step down when they miss it, within the bounds. The expected change
 * assumes every request could go local: a step moves that share between a vendor answer (its mean
 * cost, vendor_quality) and a local one (free, the labelled good rate).
 */
function localShareChange(labels: readonly LabelRow[], fitted: ReadonlyMap<string, number>, current: RoutingSettings, settings: OptimizerSettings, counts: WindowCounts): { change?: ProposalChange; quality?: number; labels: number } {
  const served = labels.filter((label) => label.score >= (fitted.get(label.tier) ?? current.escalationThresholds[label.tier as Tier] ?? 1));
  if (labels.length < settings.minLabels || served.length === 0) return { labels: served.length };
  const quality = evaluateThreshold(served, 0, settings.vendorQuality).expectedQuality;
  const [min, max] = settings.localShareBounds;
  let to = current.localShare;
  let why = '';
  if (quality >= settings.qualityTarget + settings.qualityMargin) {
    to = Math.min(max, current.localShare + settings.localShareStep);
    why = `labelled local answers at the fitted thresholds are good ${quality.toFixed(3)} of the time, above the target ${settings.qualityTarget} + margin ${settings.qualityMargin}: up one step`;
  } else if (quality < settings.qualityTarget) {
    to = Math.max(min, current.localShare - settings.localShareStep);
    why = `labelled local answers at the fitted thresholds are good only ${quality.toFixed(3)} of the time, below the target ${settings.qualityTarget}: down one step`;
  }
  to = round(Math.min(max, Math.max(min, to)), 4);
  if (to === current.localShare) return { quality, labels: served.length };
  const delta = to - current.localShare;
  return {
    quality,
    labels: served.length,
    change: {
      setting: 'local_share',
      from: current.localShare,
      to,
      expected_cost_per_request_delta_usd: counts.vendorCostPerVendorAnswer === undefined ? null : round(-delta * counts.vendorCostPerVendorAnswer, 8),
      expected_quality_delta: round(delta * (quality - settings.vendorQuality), 4),
      reason: `${why} (${served.length} labels, bounds [${min}, ${max}])`,
    },
  };
}
