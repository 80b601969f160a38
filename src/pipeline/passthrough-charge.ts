import type { Usage } from '../../adapters/spec/index.js';
import type { Tenant } from '../auth/tenant.js';
import { chatCostUsd } from '../budget/price-table.js';
import type { PriceConfig } from '../config/schema.js';
import type { BudgetStep, Hold } from './budget-step.js';
import type { PassthroughCostPlan } from './passthrough-cost.js';

/**
 * What one forwarded passthrough call was charged: handed to `onCharge` once the call is over,
 * in the shape of an inference-log attempt row.
 */
export interface PassthroughCharge {
  requestId: string;
  tenantId: string;
  /** The key's name, as the inference log and the access log name callers. */
  tenantName: string;
  method: string;
  /** The normalised path that was forwarded. */
  path: string;
  /** The configured model the call was priced as; absent for free and unpriced calls. */
  modelId?: string;
  usage?: Usage;
  /** What the budget was charged: 0 for free calls and refused ones, undefined when the call could not be priced. */
  costUsd?: number;
  /** True when the answer reported no usage and the hold was charged instead. */
  isEstimated: boolean;
  upstreamStatus?: number;
  /** Why a call that may have cost money was not charged (`unpriced` plans). */
  uncharged?: string;
  /** `upstream-unavailable`, `client-closed`, `upstream-cut`, `usage-missing` or `settle-failed: …`. */
  error?: string;
}

export interface PassthroughOutcome {
  upstreamStatus?: number;
  usage?: Usage;
  error?: string;
}

export interface OpenCharge {
  readonly isPriced: boolean;
  /** Settles (or releases) the hold exactly once; later calls are ignored. */
  finish(outcome: PassthroughOutcome): Promise<void>;
}

export interface ChargeContext {
  tenant: Tenant;
  requestId: string;
  method: string;
  path: string;
  onCharge?: (charge: PassthroughCharge) => void;
}

/**
 * Step 8 for the passthrough: reserve a priced call's estimate before forwarding (throws
 * `budget-exceeded` when it does not fit), then swap the hold for the cost of the usage the answer
 * reported. A refused call (status ≥ 400) is not billed by the vendor and releases its hold; a call
 * whose answer reported no usage (a cut stream, a client that left, a completions stream without
 * `include_usage`) is charged its hold, the most it could have cost.
 */
export async function openCharge(budget: BudgetStep, plan: PassthroughCostPlan, context: ChargeContext): Promise<OpenCharge> {
  const hold: Hold | undefined = plan.kind === 'priced' ? await budget.reserve(context.tenant, plan.model, plan.estimateUsd, context.requestId) : undefined;
  let isFinished = false;
  return {
    isPriced: plan.kind === 'priced',
    async finish(outcome) {
      if (isFinished) return;
      isFinished = true;
      const charge: PassthroughCharge = {
        requestId: context.requestId,
        tenantId: context.tenant.id,
        tenantName: context.tenant.name,
        method: context.method,
        path: context.path,
        isEstimated: false,
        upstreamStatus: outcome.upstreamStatus,
        error: outcome.error,
      };
      if (plan.kind === 'free') charge.costUsd = 0;
      if (plan.kind === 'unpriced') charge.uncharged = plan.reason;
      if (plan.kind === 'priced') {
        charge.modelId = plan.model.id;
        charge.usage = outcome.usage;
        await settle(hold!, plan.model.price, plan.estimateUsd, outcome, charge);
      }
      context.onCharge?.(charge);
    },
  };
}

async function settle(hold: Hold, price: PriceConfig, estimateUsd: number, outcome: PassthroughOutcome, charge: PassthroughCharge): Promise<void> {
  const isRefused = outcome.upstreamStatus !== undefined && outcome.upstreamStatus >= 400;
  // Only a connection never made is sure to have cost nothing; a timeout or a cut may have been billed.
  const isUnsent = outcome.upstreamStatus === undefined && outcome.error === 'upstream-unavailable';
  try {
    if (isRefused || isUnsent) {
      charge.costUsd = 0;
      await hold.release();
      return;
    }
    const measured = chatCostUsd(price, outcome.usage);
    charge.costUsd = measured ?? estimateUsd;
    charge.isEstimated = measured === undefined;
    if (measured === undefined) charge.error ??= 'usage-missing';
    await hold.settle(charge.costUsd);
  } catch (error) {
    // The hold's TTL frees it if the ledger never hears back; the charge says what went wrong.
    charge.error = `settle-failed: ${(error as Error).message}`;
  }
}
