import type { ModerationActions } from '../config/guardrail-schema.js';

/** Who is calling: resolved from the bearer key, or the open tenant when no keys are configured. */
export interface Tenant {
  id: string;
  name: string;
  /** undefined: every model. */
  allowedModels?: ReadonlySet<string>;
  monthlyBudgetUsd?: number;
  rateLimitRpm?: number;
  /**
   * The passthrough paths this caller may use, as grants (`/v1/files`, `POST /v1/responses`; see
   * passthrough-grants.ts). undefined or empty: none — a virtual key reaches only what Sluice
   * serves itself unless its record says otherwise.
   */
  passthroughPaths?: readonly string[];
  /** false: answers for this caller are neither served from the cache nor stored in it. */
  cache?: boolean;
  /** This caller's own chat moderation settings, over the gateway's (guardrails.moderation). */
  moderation?: ModerationActions;
}

/** Every passthrough path: the grant the open and master tenants hold. */
export const EVERY_PASSTHROUGH_PATH: readonly string[] = Object.freeze(['/v1']);

/** Open mode (no keys configured) keeps the gateway's behaviour from before keys existed: every path. */
export const OPEN_TENANT: Tenant = Object.freeze({ id: 'open', name: 'open', passthroughPaths: EVERY_PASSTHROUGH_PATH });

export function mayUseModel(tenant: Tenant, modelId: string): boolean {
  return !tenant.allowedModels || tenant.allowedModels.has(modelId) || tenant.allowedModels.has('*');
}
