/** Who is calling: resolved from the bearer key, or the open tenant when no keys are configured. */
export interface Tenant {
  id: string;
  name: string;
  /** undefined: every model. */
  allowedModels?: ReadonlySet<string>;
  monthlyBudgetUsd?: number;
  rateLimitRpm?: number;
}

export const OPEN_TENANT: Tenant = Object.freeze({ id: 'open', name: 'open' });

export function mayUseModel(tenant: Tenant, modelId: string): boolean {
  return !tenant.allowedModels || tenant.allowedModels.has(modelId) || tenant.allowedModels.has('*');
}
