import { SluiceError } from '../../adapters/spec/index.js';
import type { Tenant } from '../auth/tenant.js';
import type { BudgetGuard, Reservation, ScopeCap } from '../budget/budget-guard.js';
import type { ChatRequest } from '../../adapters/spec/index.js';
import { maxChatCostUsd } from '../budget/price-table.js';
import { promptTokenUpperBound } from '../budget/token-bound.js';
import type { Config, ModelConfig } from '../config/schema.js';

/** What a paid attempt holds while it runs: settle it with the real cost, or release it. */
export type Hold = Pick<Reservation, 'settle' | 'release'>;

const FREE: Hold = { settle: async () => false, release: async () => false };

/** Runs one attempt under its hold: settled with the real cost when it answers, released when it fails. */
export async function underHold<T>(hold: Hold, run: () => Promise<T>, costUsdOf: (result: T) => number): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (error) {
    await hold.release();
    throw error;
  }
  await hold.settle(costUsdOf(result));
  return result;
}

/**
 * Step 8 of the request flow, before the call: reserve the most a paid model can cost in every
 * scope that caps it (global, the caller's key, the model), atomically. A refusal is a
 * `budget-exceeded` failure of this candidate; the chain moves on, so a free (local) candidate
 * can still answer.
 */
export class BudgetStep {
  constructor(
    private readonly guard: BudgetGuard,
    private readonly config: Config['budget'],
  ) {}

  /** The organisation's caps: the month, and the week and day where configured. */
  globalScopes(): ScopeCap[] {
    const scopes: ScopeCap[] = [{ scope: 'global', capUsd: this.config.monthly_usd }];
    if (this.config.weekly_usd !== undefined) scopes.push({ scope: 'global', capUsd: this.config.weekly_usd, period: 'week' });
    if (this.config.daily_usd !== undefined) scopes.push({ scope: 'global', capUsd: this.config.daily_usd, period: 'day' });
    return scopes;
  }

  scopesFor(tenant: Tenant, model: ModelConfig): ScopeCap[] {
    const scopes = this.globalScopes();
    if (tenant.monthlyBudgetUsd !== undefined) scopes.push({ scope: `tenant:${tenant.id}`, capUsd: tenant.monthlyBudgetUsd });
    if (model.monthly_budget_usd !== undefined) scopes.push({ scope: `model:${model.id}`, capUsd: model.monthly_budget_usd });
    return scopes;
  }

  async reserve(tenant: Tenant, model: ModelConfig | undefined, estimateUsd: number, requestId: string): Promise<Hold> {
    if (!model || estimateUsd <= 0) return FREE;
    let outcome: Awaited<ReturnType<BudgetGuard['reserve']>>;
    try {
      outcome = await this.guard.reserve(this.scopesFor(tenant, model), estimateUsd, {
        requestId,
        ttlSeconds: this.config.reservation_ttl_seconds,
      });
    } catch (error) {
      // No ledger, no paid call: the cap is never crossed blind. Free (local) candidates still run.
      throw new SluiceError('upstream-unavailable', `the budget ledger is unreachable, so '${model.id}' cannot be paid for: ${(error as Error).message}`, { cause: error });
    }
    if (outcome.ok) return outcome.reservation;
    const { refusal } = outcome;
    throw new SluiceError(
      'budget-exceeded',
      `The ${refusal.scope} budget for ${refusal.periodKey} ($${refusal.capUsd}) cannot cover this request to '${model.id}' (up to $${estimateUsd.toFixed(6)}; $${refusal.remainingUsd.toFixed(6)} left).`,
      { retryAfterSeconds: 60 },
    );
  }

  /** The output cap a reservation assumes when the request sets none. */
  get defaultOutputTokens(): number {
    return this.config.default_output_tokens;
  }

  /** The most a chat request can cost on this model: its prompt (over-counted) and output cap at the model's price; 0 on a free model. */
  maxChatCostUsd(model: ModelConfig, request: ChatRequest): number {
    const outputTokens = (request.max_completion_tokens ?? request.max_tokens ?? this.config.default_output_tokens) * (request.n ?? 1);
    return maxChatCostUsd(model.price, promptTokenUpperBound(request), outputTokens);
  }
}
