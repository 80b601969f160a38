import type { Capability, ChatRequest } from '../../adapters/spec/index.js';
import type { ModelConfig } from '../config/schema.js';

export interface Candidate {
  modelId: string;
  backendId: string;
  /** The name sent to the backend. */
  upstreamModel: string;
  /** A free model added to the chain for when the paid ones do not fit the budget; tried only then. */
  onlyIfBudgetExceeded?: boolean;
  /** Its answer is scored before the client sees it, and escalated to the next candidate when weak. */
  scoreBeforeServing?: boolean;
}

/** What building a chain needs to know about the configured models. */
export interface ChainCatalog {
  get(modelId: string): ModelConfig | undefined;
  /** Backends that can be called now (keyed, configured). */
  isAvailable(backendId: string): boolean;
}

/** What a chat request needs from a model, read from the request alone. */
export function requiredCapabilities(request: ChatRequest): Capability[] {
  const needs: Capability[] = ['chat'];
  if (request.stream) needs.push('stream');
  if (request.tools?.length) needs.push('tools');
  if (request.response_format && request.response_format.type !== 'text') needs.push('json');
  const hasImage = request.messages.some(
    (message) => Array.isArray(message.content) && message.content.some((part) => part.type === 'image_url'),
  );
  if (hasImage) needs.push('vision');
  return needs;
}

export interface ChainFilter {
  needs: readonly Capability[];
  isAllowed(modelId: string): boolean;
}

/**
 * The requested model, then its configured fallbacks, keeping those whose backend is up,
 * which can do what the request needs and which the tenant may use. Pure.
 */
export function buildChain(first: readonly string[], catalog: ChainCatalog, filter: ChainFilter): Candidate[] {
  const chain: Candidate[] = [];
  const seen = new Set<string>();
  const visit = (modelId: string) => {
    if (seen.has(modelId)) return;
    seen.add(modelId);
    const model = catalog.get(modelId);
    if (!model) return;
    const usable =
      catalog.isAvailable(model.backend) &&
      filter.isAllowed(model.id) &&
      filter.needs.every((capability) => model.capabilities.includes(capability));
    if (usable) chain.push({ modelId: model.id, backendId: model.backend, upstreamModel: model.upstream_model ?? model.id });
    model.fallback.forEach(visit);
  };
  first.forEach(visit);
  return chain;
}
