import type { ChatRequest } from '../adapters/spec/index.js';
import type { PriceConfig, Tier } from '../src/config/schema.js';
import { countTokens, estimateUsage } from '../src/pipeline/usage-estimate.js';
import { TIERS } from './routing/set-item.js';
import type { LoadedItem } from './routing/check-set.js';

/** What the router did with one item, and what that would cost. */
export interface ItemOutcome {
  item: LoadedItem;
  decided: Tier;
  reason: string;
  firstModel: string;
  isLocalFirst: boolean;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** The same tokens priced at the baseline model (everything to Claude 3.5 Sonnet). */
  baselineCostUsd: number;
  /** Where a router that always found the labelled tier would send it: the bar to aim at. */
  labelled: { firstModel: string; isLocalFirst: boolean; costUsd: number };
}

/** A set of outcomes, each with the weight it carries in the scope's averages. */
export interface Scope {
  name: string;
  outcomes: readonly ItemOutcome[];
  weights: readonly number[];
}

/** The plan's traffic (DESIGN.md §2): high and creative share their 15% by their item counts. */
const PLAN_SHARE: readonly { tiers: readonly Tier[]; share: number }[] = [
  { tiers: ['simple'], share: 0.6 },
  { tiers: ['medium'], share: 0.2 },
  { tiers: ['high', 'creative'], share: 0.15 },
  { tiers: ['brand'], share: 0.05 },
];

export function unweighted(name: string, outcomes: readonly ItemOutcome[]): Scope {
  return { name, outcomes, weights: outcomes.map(() => 1) };
}

/** Every outcome reweighted so the tiers carry the plan's shares of traffic. */
export function planWeighted(name: string, outcomes: readonly ItemOutcome[]): Scope {
  return { name, outcomes, weights: planWeights(outcomes) };
}

/** Each entry's weight when its labelled tier carries the plan's share of traffic; they sum to 1. */
export function planWeights(entries: readonly { item: LoadedItem }[]): number[] {
  return entries.map((entry) => {
    const group = PLAN_SHARE.find((share) => share.tiers.includes(entry.item.tier));
    const inGroup = entries.filter((other) => group?.tiers.includes(other.item.tier)).length;
    return group && inGroup > 0 ? group.share / inGroup : 0;
  });
}

/** An item answered with its oracle: the prompt's tokens (o200k, tools and schema included) and the oracle's. */
export function oracleTokens(item: LoadedItem): { promptTokens: number; completionTokens: number } {
  const usage = estimateUsage(item.request.messages, item.oracle);
  return { promptTokens: usage.prompt_tokens + extraPromptTokens(item.request), completionTokens: usage.completion_tokens };
}

/** Those tokens at a model's price per million. */
export function tokensCostUsd(price: PriceConfig, tokens: { promptTokens: number; completionTokens: number }): number {
  return (tokens.promptTokens * price.input_per_1m + tokens.completionTokens * price.output_per_1m) / 1_000_000;
}

/** Tool definitions and a JSON schema are sent to the vendor too and billed as prompt tokens. */
function extraPromptTokens(request: ChatRequest): number {
  const tools = request.tools?.length ? countTokens(JSON.stringify(request.tools)) : 0;
  const format = request.response_format?.type === 'json_schema' ? countTokens(JSON.stringify(request.response_format)) : 0;
  return tools + format;
}

export interface ScopeFigures {
  items: number;
  tierAccuracy: number;
  /** Weight share, rows = label, columns = decided tier. */
  confusion: Record<Tier, Record<Tier, number>>;
  localShare: number;
  simpleRoutedLocal: number;
  costPerRequestUsd: number;
  baselineCostPerRequestUsd: number;
  labelledLocalShare: number;
  labelledCostPerRequestUsd: number;
}

function weightedMean(scope: Scope, value: (outcome: ItemOutcome) => number, where: (outcome: ItemOutcome) => boolean = () => true): number {
  let sum = 0;
  let total = 0;
  scope.outcomes.forEach((outcome, index) => {
    if (!where(outcome)) return;
    sum += scope.weights[index] * value(outcome);
    total += scope.weights[index];
  });
  return total > 0 ? sum / total : Number.NaN;
}

export function figuresOf(scope: Scope): ScopeFigures {
  const emptyRow = () => Object.fromEntries(TIERS.map((tier) => [tier, 0])) as Record<Tier, number>;
  const confusion = Object.fromEntries(TIERS.map((tier) => [tier, emptyRow()])) as Record<Tier, Record<Tier, number>>;
  scope.outcomes.forEach((outcome, index) => {
    confusion[outcome.item.tier][outcome.decided] += scope.weights[index];
  });
  return {
    items: scope.outcomes.length,
    tierAccuracy: weightedMean(scope, (outcome) => Number(outcome.decided === outcome.item.tier)),
    confusion,
    localShare: weightedMean(scope, (outcome) => Number(outcome.isLocalFirst)),
    simpleRoutedLocal: weightedMean(scope, (outcome) => Number(outcome.isLocalFirst), (outcome) => outcome.item.tier === 'simple'),
    costPerRequestUsd: weightedMean(scope, (outcome) => outcome.costUsd),
    baselineCostPerRequestUsd: weightedMean(scope, (outcome) => outcome.baselineCostUsd),
    labelledLocalShare: weightedMean(scope, (outcome) => Number(outcome.labelled.isLocalFirst)),
    labelledCostPerRequestUsd: weightedMean(scope, (outcome) => outcome.labelled.costUsd),
  };
}

/** Properties of an item that a router might get wrong, read from the item itself. */
export const TRAITS: readonly { name: string; has(outcome: ItemOutcome): boolean }[] = [
  { name: 'system prompt', has: (o) => o.item.messages.some((m) => m.role === 'system' || m.role === 'developer') },
  { name: 'multi-turn (2+ user turns)', has: (o) => o.item.messages.filter((m) => m.role === 'user').length > 1 },
  { name: 'tools', has: (o) => Boolean(o.item.tools) },
  { name: 'response_format json', has: (o) => Boolean(o.item.response_format) },
  { name: 'code in the prompt', has: (o) => o.item.messages.some((m) => typeof m.content === 'string' && /```|`[^`\n]+`/u.test(m.content)) },
  { name: 'long prompt (> 300 tokens)', has: (o) => o.promptTokens > 300 },
  { name: 'long prompt, simple label', has: (o) => o.promptTokens > 300 && o.item.tier === 'simple' },
  { name: 'short prompt (< 40 tokens), not simple', has: (o) => o.promptTokens < 40 && o.item.tier !== 'simple' },
  { name: 'not English', has: (o) => o.item.lang !== 'en' },
];
