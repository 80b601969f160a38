import { SluiceError } from '../../adapters/spec/index.js';
import { mayUsePassthrough } from '../auth/passthrough-grants.js';
import { mayUseModel, type Tenant } from '../auth/tenant.js';
import type { PassthroughCostPlan } from '../pipeline/passthrough-cost.js';
import { clipClientValue } from './error-text.js';

export interface PassthroughCall {
  method: string;
  /** The normalised path. */
  path: string;
  /** The parsed JSON body; undefined when there is none or it is streamed (multipart). */
  body: Record<string, unknown> | undefined;
  /** A body Sluice forwards without reading (multipart uploads). */
  hasUnreadBody: boolean;
}

/**
 * Whether a path the key may use: checked before the body is read, so a refused call costs
 * nothing and reaches nobody.
 */
export function checkPassthroughPath(tenant: Tenant, method: string, path: string): void {
  if (mayUsePassthrough(tenant, method, path)) return;
  throw new SluiceError(
    'model-not-allowed',
    `This key may not use ${method} ${clipClientValue(path)}: Sluice forwards it to the upstream only for keys whose passthrough_paths grant it.`,
    { code: 'passthrough_not_allowed' },
  );
}

/**
 * The same rules as chat, once the body is read: every model the call names must be one the key
 * may use, and a key with a budget may only make calls whose cost Sluice can bound beforehand.
 */
export function checkPassthroughCall(tenant: Tenant, call: PassthroughCall, plan: PassthroughCostPlan): void {
  if (tenant.allowedModels) checkModels(tenant, call, plan);
  if (tenant.monthlyBudgetUsd === undefined) return;
  const why = plan.kind === 'unpriced' ? plan.reason : plan.kind === 'priced' ? plan.unboundedBecause : undefined;
  if (why === undefined) return;
  throw new SluiceError('model-not-allowed', `This key has a monthly budget, so it may only make passthrough calls whose cost Sluice can bound before sending them, and this one's cannot: ${why}.`, {
    code: 'passthrough_cost_unbounded',
  });
}

function checkModels(tenant: Tenant, call: PassthroughCall, plan: PassthroughCostPlan): void {
  const named = modelsNamedIn(call);
  for (const model of named) {
    if (typeof model !== 'string') throw new SluiceError('model-not-allowed', 'this key may only name its allowed models, and `model` is not a string', { param: 'model' });
    if (!mayUseModel(tenant, model)) throw new SluiceError('model-not-allowed', `this key may not use the model '${clipClientValue(model)}'`, { param: 'model' });
  }
  // Without a model the vendor picks its default, which this key may not be allowed; and the
  // models inside a multipart form or a batch file are out of Sluice's sight.
  if (plan.kind === 'free' || named.length > 0) return;
  const why = call.hasUnreadBody ? 'the model of a multipart body cannot be checked' : 'the request names no model, so the vendor would choose one';
  throw new SluiceError('model-not-allowed', `This key may use only its allowed models, and ${why}.`, { param: 'model' });
}

/**
 * Every `model` the call names: in the path (`DELETE /v1/models/ft:…`), at the top of the body,
 * and nested anywhere in it (a Responses tool's `model`, an eval's grader): a name the key may
 * not use is refused wherever it hides.
 */
function modelsNamedIn(call: PassthroughCall): unknown[] {
  const named: unknown[] = [];
  const fromPath = /^\/v1\/models\/([^/]+)/i.exec(call.path);
  if (fromPath) named.push(fromPath[1]);
  if (call.body?.model !== undefined) named.push(call.body.model);
  const stack: unknown[] = call.body ? Object.entries(call.body).filter(([key]) => key !== 'model').map(([, value]) => value) : [];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) for (const element of value) stack.push(element);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'model' && typeof child === 'string') named.push(child);
        else stack.push(child);
      }
    }
  }
  return named;
}
