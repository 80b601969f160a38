import type { ChatRequest } from '../../adapters/spec/index.js';
import type { Tier } from '../config/schema.js';
import { classifyComplexity } from './complexity.js';

export interface RoutePlan {
  tiers: Partial<Record<Tier, readonly string[]>>;
  /** Share of eligible requests that may go to a local model (rollout), 0..1. */
  localShare: number;
}

export interface RouteContext {
  isLocal(modelId: string): boolean;
  /** 0..1, handed in so tests are deterministic. */
  draw: number;
}

export interface RouteDecision {
  tier: Tier;
  /** Model ids in the order to try them. */
  models: string[];
  reason: string;
}

const TIER_ORDER: readonly Tier[] = ['simple', 'medium', 'high', 'creative', 'brand'];

/** `auto` → tier → the tier's chain. Pure: everything it needs is an argument. */
export function decideRoute(request: ChatRequest, plan: RoutePlan, context: RouteContext): RouteDecision {
  const verdict = classifyComplexity(request);
  let models = [...(plan.tiers[verdict.tier] ?? nearestConfiguredTier(plan, verdict.tier))];
  let reason = verdict.reason;
  if (context.draw >= plan.localShare && models.some((id) => context.isLocal(id))) {
    models = models.filter((id) => !context.isLocal(id));
    reason = `${reason};rollout`;
  }
  return { tier: verdict.tier, models, reason };
}

function nearestConfiguredTier(plan: RoutePlan, tier: Tier): readonly string[] {
  const start = TIER_ORDER.indexOf(tier);
  for (const candidate of [...TIER_ORDER.slice(start), ...TIER_ORDER.slice(0, start).reverse()]) {
    const chain = plan.tiers[candidate];
    if (chain?.length) return chain;
  }
  return [];
}
