import type { Capability, ChatRequest } from '../../adapters/spec/index.js';
import { mayUseModel, type Tenant } from '../auth/tenant.js';
import { TIERS, type Config, type Tier } from '../config/schema.js';
import { buildChain, type Candidate, type ChainCatalog } from './candidates.js';
import { classifyComplexity } from './complexity.js';
import { loadTierClassifier } from './tier-classifier.js';

export interface RouteContext {
  tenant: Tenant;
  /** What the request needs from a model (chat, stream, tools, json, vision). */
  needs: readonly Capability[];
  /** Share of eligible requests that may go local (rollout), 0..1: the live setting. */
  localShare: number;
  /** 0..1, handed in so tests are deterministic; sticky per caller in production. */
  draw: number;
  /** Whether local answers are scored before they are served (a scorer is configured). */
  validatesLocal: boolean;
  /** The prompt's local embedding, where one was computed: the classifier then uses its embedding weights. */
  embedding?: Float32Array;
}

/** How hard a request is: its tier, and the reason for `x-sluice-route-reason`. */
export interface TierClassifying {
  classify(request: ChatRequest, embedding?: Float32Array): { tier: Tier; reason: string };
}

/** The first-cut regular expressions of complexity.ts, for `routing.classifier: rules`. */
export const RULES_CLASSIFIER: TierClassifying = { classify: (request) => classifyComplexity(request) };

/**
 * The classifier in force, swappable while the gateway runs: the optimizer puts a re-fitted model
 * in (through RoutingState.setClassifier, which logs it) and a rollback puts the earlier one back.
 * A decision reads the one field once, so a swap never splits a request between two models.
 * `initial` is what config chose at start: the shipped artefact, or the rules.
 */
export class LiveClassifier implements TierClassifying {
  private current: TierClassifying;
  private currentVersion: string;

  constructor(
    readonly initial: TierClassifying,
    readonly initialVersion: string,
  ) {
    this.current = initial;
    this.currentVersion = initialVersion;
  }

  /** `shipped`, `rules`, or `optimizer v<n>`: what the log and /admin answers name. */
  get version(): string {
    return this.currentVersion;
  }

  classify(request: ChatRequest, embedding?: Float32Array): { tier: Tier; reason: string } {
    return this.current.classify(request, embedding);
  }

  /** Puts `next` in force; returns the version it replaced. Call it through RoutingState, which tells the listeners. */
  swap(next: TierClassifying, version: string): string {
    const previous = this.currentVersion;
    this.current = next;
    this.currentVersion = version;
    return previous;
  }
}

export interface RouteDecision {
  tier: Tier;
  chain: readonly Candidate[];
  reason: string;
}

/** `auto` → a tier with its reason → the candidates to try, in order. Pure: everything it needs is an argument. */
export interface Router {
  decide(request: ChatRequest, context: RouteContext): RouteDecision;
}

export type TierPlan = Partial<Record<Tier, readonly string[]>>;

/** The classifier's tier, then that tier's configured chain, the rollout share applied. */
export class TierRouter implements Router {
  constructor(
    private readonly tiers: TierPlan,
    private readonly catalog: ChainCatalog & { isLocal(modelId: string): boolean },
    private readonly classifier: TierClassifying,
  ) {}

  /** The classifier `routing.classifier` names; the trained one parses and checks its artefact here, once. */
  static classifierFor(choice: Config['routing']['classifier']): TierClassifying {
    return choice === 'rules' ? RULES_CLASSIFIER : loadTierClassifier();
  }

  /** The same, in a holder the optimizer can swap a re-fitted model into: `shipped` or `rules` to begin with. */
  static liveClassifierFor(choice: Config['routing']['classifier']): LiveClassifier {
    return new LiveClassifier(TierRouter.classifierFor(choice), choice === 'rules' ? 'rules' : 'shipped');
  }

  decide(request: ChatRequest, context: RouteContext): RouteDecision {
    const verdict = this.classifier.classify(request, context.embedding);
    let models = [...(this.tiers[verdict.tier] ?? nearestConfiguredTier(this.tiers, verdict.tier))];
    let reason = verdict.reason;
    if (context.draw >= context.localShare && models.some((id) => this.catalog.isLocal(id))) {
      models = models.filter((id) => !this.catalog.isLocal(id));
      reason = `${reason};rollout`;
    }
    const chain = buildChain(models, this.catalog, { needs: context.needs, isAllowed: (id) => mayUseModel(context.tenant, id) });
    // A local answer is checked before it is served only where someone can take over.
    const scored = chain.map((candidate, index) =>
      context.validatesLocal && index < chain.length - 1 && this.catalog.isLocal(candidate.modelId) ? { ...candidate, scoreBeforeServing: true } : candidate,
    );
    return { tier: verdict.tier, chain: scored, reason };
  }
}

function nearestConfiguredTier(tiers: TierPlan, tier: Tier): readonly string[] {
  const start = TIERS.indexOf(tier);
  for (const candidate of [...TIERS.slice(start), ...TIERS.slice(0, start).reverse()]) {
    const chain = tiers[candidate];
    if (chain?.length) return chain;
  }
  return [];
}
