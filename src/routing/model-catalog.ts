import { SluiceError, type Capability } from '../../adapters/spec/index.js';
import { mayUseModel, type Tenant } from '../auth/tenant.js';
import type { ModelConfig } from '../config/schema.js';
import type { ChainCatalog } from './candidates.js';

/** What the catalogue needs to know about the live backends (the adapter registry answers it). */
export interface BackendView {
  /** Configured and keyed: it can be called. */
  isAvailable(backendId: string): boolean;
  isLocal(backendId: string): boolean;
}

/**
 * The configured models and what their names mean: which model an explicit name is, whether a
 * name goes to the router, what a model costs and where it runs. Pure: no I/O.
 */
export class ModelCatalog implements ChainCatalog {
  private readonly byId: ReadonlyMap<string, ModelConfig>;

  constructor(
    private readonly configured: readonly ModelConfig[],
    private readonly autoAliases: readonly string[],
    private readonly backends: BackendView,
  ) {
    this.byId = new Map(configured.map((model) => [model.id, model]));
  }

  get(modelId: string): ModelConfig | undefined {
    return this.byId.get(modelId);
  }

  models(): readonly ModelConfig[] {
    return this.configured;
  }

  isAvailable(backendId: string): boolean {
    return this.backends.isAvailable(backendId);
  }

  isLocal(modelId: string): boolean {
    const model = this.byId.get(modelId);
    return model ? this.backends.isLocal(model.backend) : false;
  }

  isPaid(modelId: string): boolean {
    const price = this.byId.get(modelId)?.price;
    return price ? price.input_per_1m + price.output_per_1m + (price.audio_per_minute ?? 0) > 0 : false;
  }

  /** A name the router answers (`auto`, `gpt-3.5-turbo`…), unless it is also a configured model. */
  isAutoAlias(name: string): boolean {
    return this.autoAliases.includes(name) && !this.byId.has(name);
  }

  /** Router names shown in /v1/models beside the models. */
  aliases(): readonly string[] {
    return this.autoAliases.filter((alias) => !this.byId.has(alias));
  }

  /** An explicit model name → its entry, or the error a client understands. */
  resolve(name: string, tenant: Tenant, needs: readonly Capability[]): ModelConfig {
    const model = this.byId.get(name);
    if (!model) {
      throw new SluiceError('not-found', `The model '${name}' does not exist or you do not have access to it.`, { param: 'model', code: 'model_not_found' });
    }
    if (!mayUseModel(tenant, model.id)) {
      throw new SluiceError('model-not-allowed', `this key may not use the model '${model.id}'`, { param: 'model' });
    }
    const missing = needs.filter((capability) => !model.capabilities.includes(capability));
    if (missing.length > 0) {
      throw new SluiceError('invalid-request', `the model '${model.id}' does not support ${missing.join(', ')}`, { param: paramFor(missing[0]) });
    }
    return model;
  }
}

function paramFor(capability: Capability): string {
  return { tools: 'tools', json: 'response_format', vision: 'messages', stream: 'stream', chat: 'model', embed: 'model', transcribe: 'model', ocr: 'model', moderate: 'model', classify: 'model', rerank: 'model' }[capability];
}
