import { loadConfig } from '../src/config/load.js';
import type { Config, ModelConfig } from '../src/config/schema.js';
import { ModelCatalog, type BackendView } from '../src/routing/model-catalog.js';
import { TierRouter } from '../src/routing/router.js';
import { RoutingPolicy } from '../src/routing/routing-policy.js';
import { RoutingState } from '../src/routing/routing-state.js';

/**
 * Where each adapter type runs, as each adapter's own `location` says (adapters/<name>). The eval
 * cannot ask the adapters themselves: constructing one loads its model or starts the sidecar.
 */
const LOCATION_OF_TYPE: Readonly<Record<string, 'local' | 'vendor'>> = {
  'llama-cpp': 'local',
  onnx: 'local',
  'onnx-classifier': 'local',
  sidecar: 'local',
  openai: 'vendor',
  'openai-compatible': 'vendor',
  anthropic: 'vendor',
};

/** Every configured backend up and keyed, as if the operator had set every vendor key. */
export function everyBackendUp(config: Config): BackendView {
  for (const [id, backend] of Object.entries(config.backends)) {
    if (!LOCATION_OF_TYPE[backend.type]) throw new Error(`backends.${id}.type: "${backend.type}" has no known location; add it to eval/router-under-test.ts`);
  }
  return {
    isAvailable: (backendId) => Object.hasOwn(config.backends, backendId),
    isLocal: (backendId) => LOCATION_OF_TYPE[config.backends[backendId]?.type ?? ''] === 'local',
  };
}

export interface RouterUnderTest {
  config: Config;
  catalog: ModelCatalog;
  policy: RoutingPolicy;
  model(modelId: string): ModelConfig;
}

/**
 * The routing policy wired as src/gateway.ts wires it, from the shipped config (or `configPath`)
 * with no environment overrides, so the figures do not depend on the shell that runs the eval.
 */
export function buildRouterUnderTest(configPath?: string): RouterUnderTest {
  const config = loadConfig(configPath ? { SLUICE_CONFIG: configPath } : {});
  const catalog = new ModelCatalog(config.models, config.routing.auto_aliases, everyBackendUp(config));
  const threshold = config.routing.escalation_threshold;
  const routing = new RoutingState({
    localShare: config.routing.local_share,
    escalationThresholds: { simple: threshold, medium: threshold, high: threshold, creative: threshold, brand: threshold },
  });
  const policy = new RoutingPolicy(catalog, new TierRouter(config.routing.tiers, catalog, TierRouter.classifierFor(config.routing.classifier)), routing, {
    tiers: config.routing.tiers,
    onBudgetExceeded: config.budget.on_exceeded,
    validatesLocal: false,
    keyVariableOf: (backendId) => config.backends[backendId]?.api_key_env,
  });
  const model = (modelId: string) => {
    const found = catalog.get(modelId);
    if (!found) throw new Error(`config has no model "${modelId}"`);
    return found;
  };
  return { config, catalog, policy, model };
}
