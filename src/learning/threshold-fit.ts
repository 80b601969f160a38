/**
 * The escalation threshold of one tier, fitted to labelled local answers (pure; the optimizer
 * gathers the labels). A local answer scored at or above the threshold is served, one below it is
 * escalated to a vendor: a higher threshold means more escalations, so more cost, and — when the
 * low-scored local answers are the bad ones — more quality. The fit picks the threshold with the
 * fewest escalations whose expected quality of what is served still meets the target.
 */

export interface LabelledScore {
  /** The validator's quality_score of the local attempt. */
  score: number;
  /** What a label (feedback, shadow agreement) says of that answer. */
  good: boolean;
}

export interface ThresholdFitInput {
  labels: readonly LabelledScore[];
  /** The tier's threshold now. */
  current: number;
  /** The quality the served answers should have on average (config.targets.quality). */
  target: number;
  /** The quality an escalated (vendor) answer is assumed to have. */
  vendorQuality: number;
  /** Fewer labels than this: no change. */
  minLabels: number;
}

export interface ThresholdPoint {
  threshold: number;
  /** Share of the labelled local answers this threshold escalates. */
  escalationRate: number;
  /** Good local answers served, plus the escalated ones at the vendor's quality, over all. */
  expectedQuality: number;
}

export interface ThresholdFit {
  labels: number;
  current: ThresholdPoint;
  proposed: ThresholdPoint;
  changed: boolean;
  /** Why the proposal is what it is, in a sentence an operator reads. */
  reason: string;
  /** False when no threshold reaches the target: `proposed` is then the safest one. */
  meetsTarget: boolean;
}

/** A threshold as the fit states it: 4 decimals, so float4 noise from the database does not show. */
const round = (value: number) => Math.round(value * 10_000) / 10_000;

export function evaluateThreshold(labels: readonly LabelledScore[], threshold: number, vendorQuality: number): ThresholdPoint {
  if (labels.length === 0) return { threshold, escalationRate: 0, expectedQuality: 0 };
  let escalated = 0;
  let goodServed = 0;
  for (const label of labels) {
    if (label.score >= threshold) goodServed += label.good ? 1 : 0;
    else escalated += 1;
  }
  return {
    threshold,
    escalationRate: escalated / labels.length,
    expectedQuality: (goodServed + escalated * vendorQuality) / labels.length,
  };
}

export function fitThreshold(input: ThresholdFitInput): ThresholdFit {
  const { labels, current, target, vendorQuality, minLabels } = input;
  const now = evaluateThreshold(labels, current, vendorQuality);
  if (labels.length < minLabels) {
    return { labels: labels.length, current: now, proposed: now, changed: false, meetsTarget: now.expectedQuality >= target, reason: `${labels.length} labels, fewer than the ${minLabels} a fit needs: no change` };
  }
  // Each distinct score is a threshold that serves exactly the answers scored at or above it (the
  // highest threshold with that served set, so an unlabelled lower score still escalates); 1
  // escalates everything scored below a perfect 1.
  const candidates = [...new Set([...labels.map((label) => round(label.score)), 1])].filter((threshold) => threshold >= 0 && threshold <= 1).sort((a, b) => a - b);
  const points = candidates.map((threshold) => evaluateThreshold(labels, threshold, vendorQuality));
  // Ascending thresholds escalate at least as many: the first one meeting the target is the cheapest.
  const cheapest = points.find((point) => point.expectedQuality >= target - 1e-12);
  if (!cheapest) {
    const safest = points.reduce((best, point) => (point.expectedQuality > best.expectedQuality + 1e-12 ? point : best));
    return {
      labels: labels.length,
      current: now,
      proposed: safest,
      changed: safest.threshold !== current,
      meetsTarget: false,
      reason: `no threshold reaches the quality target ${target} (at best ${safest.expectedQuality.toFixed(3)} at ${safest.threshold}): the safest threshold`,
    };
  }
  if (cheapest.escalationRate === now.escalationRate && now.expectedQuality >= target) {
    return { labels: labels.length, current: now, proposed: now, changed: false, meetsTarget: true, reason: `the current threshold already meets the quality target ${target} at the least escalation` };
  }
  const direction = cheapest.threshold > current ? 'raised' : 'lowered';
  const why = now.expectedQuality < target ? `the current one serves an expected quality of ${now.expectedQuality.toFixed(3)}, below the target ${target}` : `fewer escalations still meet the quality target ${target}`;
  return { labels: labels.length, current: now, proposed: cheapest, changed: true, meetsTarget: true, reason: `${direction}: ${why}` };
}
