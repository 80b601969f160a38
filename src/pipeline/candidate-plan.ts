import { SluiceError, type Adapter, type Capability, type ChatRequest } from '../../adapters/spec/index.js';
import { mayUseModel, type Tenant } from '../auth/tenant.js';
import type { Config, ModelConfig } from '../config/schema.js';
import { buildChain, type Candidate, type ModelCatalog } from '../routing/candidates.js';
import { decideRoute } from '../routing/router.js';
import type { Tier } from '../config/schema.js';

export interface CandidatePlan {
  chain: Candidate[];
  tier?: Tier;
  routeReason?: string;
}

/** The configured models and live adapters, asked "who can answer this?". */
export class ModelDirectory implements ModelCatalog {
  private readonly byId: Map<string, ModelConfig>;

  constructor(
    private readonly config: Config,
    private readonly adapters: ReadonlyMap<string, Adapter>,
  ) {
    this.byId = new Map(config.models.map((model) => [model.id, model]));
  }

  get(modelId: string): ModelConfig | undefined {
    return this.byId.get(modelId);
  }

  isAvailable(backendId: string): boolean {
    return this.adapters.has(backendId);
  }

  adapter(backendId: string): Adapter {
    const adapter = this.adapters.get(backendId);
    if (!adapter) throw new SluiceError('internal', `no adapter "${backendId}"`);
    return adapter;
  }

  backendTimeoutMs(backendId: string): number {
    return this.config.backends[backendId]?.timeout_ms ?? 60_000;
  }

  isLocal(modelId: string): boolean {
    const model = this.byId.get(modelId);
    return model ? this.adapters.get(model.backend)?.location === 'local' : false;
  }

  isAutoAlias(name: string): boolean {
    return this.config.routing.auto_aliases.includes(name) && !this.byId.has(name);
  }

  models(): readonly ModelConfig[] {
    return this.config.models;
  }

  /** Resolve a request's model name to the ordered candidates that may answer it. */
  plan(modelName: string, needs: readonly Capability[], tenant: Tenant, request?: ChatRequest, draw = Math.random()): CandidatePlan {
    const filter = { needs, isAllowed: (id: string) => mayUseModel(tenant, id) };
    if (request && this.isAutoAlias(modelName)) {
      if (!mayUseModel(tenant, modelName)) {
        throw new SluiceError('model-not-allowed', `this key may not use the model '${modelName}'`, { param: 'model' });
      }
      const decision = decideRoute(request, { tiers: this.config.routing.tiers, localShare: this.config.routing.local_share }, { isLocal: (id) => this.isLocal(id), draw });
      const chain = buildChain(decision.models, this, filter);
      if (chain.length === 0) {
        throw new SluiceError('upstream-unavailable', `no model of tier "${decision.tier}" is available for "${modelName}"; configure a backend key or a local model`, { param: 'model' });
      }
      return { chain: this.withBudgetFallback(chain, needs, filter), tier: decision.tier, routeReason: decision.reason };
    }
    const model = this.byId.get(modelName);
    if (!model) {
      throw new SluiceError('not-found', `The model '${modelName}' does not exist or you do not have access to it.`, { param: 'model', code: 'model_not_found' });
    }
    if (!mayUseModel(tenant, model.id)) {
      throw new SluiceError('model-not-allowed', `this key may not use the model '${model.id}'`, { param: 'model' });
    }
    const missing = needs.filter((capability) => !model.capabilities.includes(capability));
    if (missing.length > 0) {
      throw new SluiceError('invalid-request', `the model '${model.id}' does not support ${missing.join(', ')}`, { param: paramFor(missing[0]) });
    }
    const chain = buildChain([model.id], this, filter);
    if (chain.length === 0) {
      const backend = this.config.backends[model.backend];
      const why = backend?.api_key_env ? ` (set ${backend.api_key_env})` : '';
      throw new SluiceError('upstream-unavailable', `the backend "${model.backend}" of model '${model.id}' is not configured${why}`, { param: 'model' });
    }
    return { chain: this.withBudgetFallback(chain, needs, filter) };
  }

  /**
   * With `budget.on_exceeded: local`, the free models of the routing plan follow a chain of paid
   * ones, to be tried only if a paid candidate's reservation did not fit (DESIGN §1 step 8).
   */
  private withBudgetFallback(chain: Candidate[], needs: readonly Capability[], filter: { needs: readonly Capability[]; isAllowed(id: string): boolean }): Candidate[] {
    if (this.config.budget.on_exceeded !== 'local' || !chain.some((candidate) => this.isPaid(candidate.modelId))) return chain;
    const tierModels = Object.values(this.config.routing.tiers).flat() as string[];
    const free = buildChain([...new Set(tierModels)].filter((id) => this.isLocal(id) && !this.isPaid(id)), this, { ...filter, needs })
      .filter((candidate) => !this.isPaid(candidate.modelId) && !chain.some((existing) => existing.modelId === candidate.modelId))
      .map((candidate) => ({ ...candidate, onlyIfBudgetExceeded: true }));
    return [...chain, ...free];
  }

  isPaid(modelId: string): boolean {
    const price = this.byId.get(modelId)?.price;
    return price ? price.input_per_1m + price.output_per_1m + (price.audio_per_minute ?? 0) > 0 : false;
  }
}

function paramFor(capability: Capability): string {
  return { tools: 'tools', json: 'response_format', vision: 'messages', stream: 'stream', chat: 'model', embed: 'model', transcribe: 'model' }[capability];
}
