import { SluiceError, type Capability, type ChatRequest } from '../../adapters/spec/index.js';
import { mayUseModel, type Tenant } from '../auth/tenant.js';
import type { Tier } from '../config/schema.js';
import { buildChain, type Candidate, type ChainFilter } from './candidates.js';
import type { ModelCatalog } from './model-catalog.js';
import { stickyDraw } from './rollout.js';
import type { Router, TierPlan } from './router.js';
import type { RoutingState } from './routing-state.js';

export interface CandidatePlan {
  chain: readonly Candidate[];
  tier?: Tier;
  routeReason?: string;
}

export interface RoutingPolicyOptions {
  tiers: TierPlan;
  /** When a paid model's reservation does not fit: try the free (local) models of the plan, or refuse. */
  onBudgetExceeded: 'local' | 'refuse';
  /** Local answers are scored before serving (a quality scorer is configured). */
  validatesLocal: boolean;
  /** The environment variable that would key a backend, for the error that says how to enable it. */
  keyVariableOf?: (backendId: string) => string | undefined;
  /**
   * Near the cap, routed chains shift: local models first (scored, so a weak answer still
   * escalates), then the vendors cheapest first. `usedFraction` is the budget's, read as is.
   */
  budgetShift?: { readonly pressure: { readonly usedFraction: number }; readonly at: number };
  /** A local model whose line is longer than `maxWaitMs` goes after the vendors of a routed chain (latency). */
  localQueue?: { expectedWaitMs(backendId: string): number | undefined; readonly maxWaitMs: number };
}

/**
 * Who may answer a request, in order: an explicit model and its fallbacks, or, for `auto` and
 * its aliases, the router's chain for the request's tier. The tenant's allowed models, the live
 * rollout share and the budget rule apply to both. Pure: no I/O.
 */
export class RoutingPolicy {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly router: Router,
    private readonly state: RoutingState,
    private readonly options: RoutingPolicyOptions,
  ) {}

  /** For chat: a request the router can read. */
  planChat(request: ChatRequest, needs: readonly Capability[], tenant: Tenant, draw = stickyDraw(request, tenant)): CandidatePlan {
    if (!this.catalog.isAutoAlias(request.model)) return this.planModel(request.model, needs, tenant);
    if (!mayUseModel(tenant, request.model)) {
      throw new SluiceError('model-not-allowed', `this key may not use the model '${request.model}'`, { param: 'model' });
    }
    const decision = this.router.decide(request, { tenant, needs, localShare: this.state.localShare, draw, validatesLocal: this.options.validatesLocal });
    if (decision.chain.length === 0) {
      throw new SluiceError('upstream-unavailable', `no model of tier "${decision.tier}" is available for "${request.model}"; configure a backend key or a local model`, { param: 'model' });
    }
    const filter = this.filterFor(tenant, needs);
    // Spend near the cap outranks latency: a shifted chain keeps its local model first.
    const shifted = this.underBudgetPressure(decision.chain, filter);
    const queued = shifted ? undefined : this.pastLocalLine(decision.chain);
    let routeReason = decision.reason;
    if (shifted) routeReason += `;budget:${shifted.usedFraction.toFixed(2)}`;
    if (queued) routeReason += `;queue:${Math.round(queued.waitMs)}ms`;
    return { chain: this.withBudgetFallback(shifted?.chain ?? queued?.chain ?? decision.chain, filter), tier: decision.tier, routeReason };
  }

  /** A chain that starts with a local model whose line is too long: its vendors first, the local model(s) last. */
  private pastLocalLine(chain: readonly Candidate[]): { chain: Candidate[]; waitMs: number } | undefined {
    const queue = this.options.localQueue;
    const first = chain[0];
    if (!queue || !first || !this.catalog.isLocal(first.modelId)) return undefined;
    const waitMs = queue.expectedWaitMs(first.backendId) ?? 0;
    const vendors = chain.filter((candidate) => !this.catalog.isLocal(candidate.modelId));
    if (waitMs <= queue.maxWaitMs || vendors.length === 0) return undefined;
    const local = chain.filter((candidate) => this.catalog.isLocal(candidate.modelId));
    // Last in the chain, nobody takes over from a local answer: it is served unscored.
    const last = local.map((candidate, index) => (index === local.length - 1 ? { ...candidate, scoreBeforeServing: undefined } : candidate));
    return { chain: [...vendors, ...last], waitMs };
  }

  /** An explicit model name (every endpoint): that model, then its configured fallbacks. */
  planModel(modelName: string, needs: readonly Capability[], tenant: Tenant): CandidatePlan {
    const model = this.catalog.resolve(modelName, tenant, needs);
    const filter = this.filterFor(tenant, needs);
    const chain = buildChain([model.id], this.catalog, filter);
    if (chain.length === 0) {
      const variable = this.options.keyVariableOf?.(model.backend);
      const how = variable ? ` (set ${variable})` : '';
      throw new SluiceError('upstream-unavailable', `the backend "${model.backend}" of model '${model.id}' is not configured${how}`, { param: 'model' });
    }
    return { chain: this.withBudgetFallback(chain, filter) };
  }

  private filterFor(tenant: Tenant, needs: readonly Capability[]): ChainFilter {
    return { needs, isAllowed: (id) => mayUseModel(tenant, id) };
  }

  /**
   * With spend at `budgetShift.at` of the cap or more: the chain's local models, or else the routing
   * plan's, go first, then its vendors by price. Undefined below that: the chain stays as planned.
   */
  private underBudgetPressure(chain: readonly Candidate[], filter: ChainFilter): { chain: Candidate[]; usedFraction: number } | undefined {
    const shift = this.options.budgetShift;
    const usedFraction = shift?.pressure.usedFraction ?? 0;
    if (!shift || usedFraction < shift.at) return undefined;
    const isLocal = (candidate: Candidate) => this.catalog.isLocal(candidate.modelId);
    let local = chain.filter(isLocal);
    if (local.length === 0) local = buildChain(this.plannedModels().filter((id) => this.catalog.isLocal(id)), this.catalog, filter).filter(isLocal);
    const vendors = chain.filter((candidate) => !isLocal(candidate)).sort((a, b) => this.priceOf(a.modelId) - this.priceOf(b.modelId));
    const ordered = [...local, ...vendors];
    const scored = ordered.map((candidate, index) =>
      this.options.validatesLocal && index < ordered.length - 1 && isLocal(candidate) ? { ...candidate, scoreBeforeServing: true } : candidate,
    );
    return { chain: scored, usedFraction };
  }

  private priceOf(modelId: string): number {
    const price = this.catalog.get(modelId)?.price;
    return price ? price.input_per_1m + price.output_per_1m : 0;
  }

  private plannedModels(): string[] {
    return [...new Set(Object.values(this.options.tiers).flat() as string[])];
  }

  /**
   * With `budget.on_exceeded: local`, the free models of the routing plan follow a chain of paid
   * ones, to be tried only if a paid candidate's reservation did not fit (DESIGN §1 step 8).
   */
  private withBudgetFallback(chain: readonly Candidate[], filter: ChainFilter): readonly Candidate[] {
    if (this.options.onBudgetExceeded !== 'local' || !chain.some((candidate) => this.catalog.isPaid(candidate.modelId))) return chain;
    const free = buildChain(this.plannedModels().filter((id) => this.catalog.isLocal(id) && !this.catalog.isPaid(id)), this.catalog, filter)
      .filter((candidate) => !this.catalog.isPaid(candidate.modelId) && !chain.some((existing) => existing.modelId === candidate.modelId))
      .map((candidate) => ({ ...candidate, onlyIfBudgetExceeded: true }));
    return [...chain, ...free];
  }
}
