/** The figures of the live eval (eval/run-live-eval.ts): what each item's served answer was, summed per scope. */
import type { Tier } from '../src/config/schema.js';
import { planWeights } from './routing-metrics.js';
import type { LoadedItem } from './routing/check-set.js';
import { TIERS } from './routing/set-item.js';

export interface LiveOutcome {
  item: LoadedItem;
  /** x-sluice-tier; `none` when the request failed before routing. */
  decided: Tier | 'none';
  /** x-sluice-route: local, cache, deepseek, anthropic, openai, … (or http-<status> for a failure). */
  route: string;
  /** The served answer passes the item's check. */
  passes: boolean;
  isEscalated: boolean;
  costUsd: number;
  /** The same item answered by Claude 3.5 Sonnet, priced with the oracle's length. */
  baselineCostUsd: number;
  latencyMs: number;
}

export interface LiveFigures {
  items: number;
  tierAccuracy: number;
  confusion: Record<Tier, Record<Tier | 'none', number>>;
  localShare: number;
  simpleLocal: number;
  passRate: number;
  escalationRate: number;
  costPerRequestUsd: number;
  baselineCostPerRequestUsd: number;
  /** p50 and p95 of the end-to-end latency, per labelled tier and over all. */
  latency: Record<Tier | 'all', { p50: number; p95: number; items: number }>;
}

const isLocal = (outcome: LiveOutcome) => outcome.route === 'local' || outcome.route === 'cache';

function percentile(values: readonly number[], share: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!;
}

/** Weighted shares and means; `isPlanMix` reweights the tiers to the plan's 60/20/15/5. */
export function liveFigures(outcomes: readonly LiveOutcome[], isPlanMix: boolean): LiveFigures {
  const weights = isPlanMix ? planWeights(outcomes) : outcomes.map(() => 1 / Math.max(1, outcomes.length));
  const mean = (value: (outcome: LiveOutcome) => number, among = (_outcome: LiveOutcome) => true) => {
    let sum = 0;
    let total = 0;
    outcomes.forEach((outcome, index) => {
      if (!among(outcome)) return;
      sum += weights[index]! * value(outcome);
      total += weights[index]!;
    });
    return total > 0 ? sum / total : Number.NaN;
  };
  const confusion = Object.fromEntries(TIERS.map((label) => [label, Object.fromEntries([...TIERS, 'none'].map((decided) => [decided, 0]))])) as LiveFigures['confusion'];
  for (const outcome of outcomes) confusion[outcome.item.tier][outcome.decided] += 1;
  const latencyOf = (among: readonly LiveOutcome[]) => ({ p50: percentile(among.map((o) => o.latencyMs), 0.5), p95: percentile(among.map((o) => o.latencyMs), 0.95), items: among.length });
  return {
    items: outcomes.length,
    tierAccuracy: mean((outcome) => Number(outcome.decided === outcome.item.tier)),
    confusion,
    localShare: mean((outcome) => Number(isLocal(outcome))),
    simpleLocal: mean((outcome) => Number(isLocal(outcome)), (outcome) => outcome.item.tier === 'simple'),
    passRate: mean((outcome) => Number(outcome.passes)),
    escalationRate: mean((outcome) => Number(outcome.isEscalated)),
    costPerRequestUsd: mean((outcome) => outcome.costUsd),
    baselineCostPerRequestUsd: mean((outcome) => outcome.baselineCostUsd),
    latency: Object.fromEntries([...TIERS.map((tier) => [tier, latencyOf(outcomes.filter((o) => o.item.tier === tier))]), ['all', latencyOf(outcomes)]]) as LiveFigures['latency'],
  };
}

const percent = (share: number) => (Number.isNaN(share) ? '–' : `${(share * 100).toFixed(1)}%`);
const usd = (amount: number) => (Number.isNaN(amount) ? '–' : `$${amount.toFixed(5)}`);
const seconds = (ms: number) => (Number.isNaN(ms) ? '–' : `${(ms / 1000).toFixed(2)} s`);

/** One scope as Markdown: the summary, the latencies per tier and the confusion matrix. */
export function liveTable(name: string, figures: LiveFigures, auc: number, aucItems: number): string {
  const lines = [
    `## ${name} (${figures.items} items)`,
    '',
    '| | |',
    '| --- | ---: |',
    `| tier accuracy | ${percent(figures.tierAccuracy)} |`,
    `| answered locally (local model or cache) | ${percent(figures.localShare)} |`,
    `| simple requests answered locally | ${percent(figures.simpleLocal)} |`,
    `| final pass rate (all-premium: 100%, the oracle) | ${percent(figures.passRate)} |`,
    `| escalation rate | ${percent(figures.escalationRate)} |`,
    `| validator ROC AUC on the local answers it scored | ${Number.isNaN(auc) ? '–' : auc.toFixed(3)} (${aucItems}) |`,
    `| cost per request | ${usd(figures.costPerRequestUsd)} |`,
    `| cost per request, all to Claude 3.5 Sonnet | ${usd(figures.baselineCostPerRequestUsd)} |`,
    `| cost ratio | ${(figures.costPerRequestUsd / figures.baselineCostPerRequestUsd).toFixed(3)} |`,
    `| monthly at 10,000 requests, as routed / all-Sonnet | $${(figures.costPerRequestUsd * 10_000).toFixed(2)} / $${(figures.baselineCostPerRequestUsd * 10_000).toFixed(2)} |`,
    '',
    '| latency | p50 | p95 | items |',
    '| --- | ---: | ---: | ---: |',
    ...(['all', ...TIERS] as const).map((tier) => `| ${tier} | ${seconds(figures.latency[tier].p50)} | ${seconds(figures.latency[tier].p95)} | ${figures.latency[tier].items} |`),
    '',
    `| label \\ decided | ${[...TIERS, 'none'].join(' | ')} |`,
    `| --- | ${[...TIERS, 'none'].map(() => '---:').join(' | ')} |`,
    ...TIERS.map((label) => `| ${label} | ${[...TIERS, 'none'].map((decided) => figures.confusion[label][decided as Tier | 'none']).join(' | ')} |`),
    '',
  ];
  return lines.join('\n');
}
