import type { Request, Response } from 'express';
import { SluiceError } from '../../../adapters/spec/index.js';
import { mayUseModel } from '../../auth/tenant.js';
import type { ModelCatalog } from '../../routing/model-catalog.js';
import { stateOf } from '../request-context.js';

const CREATED = Math.floor(Date.parse('2026-01-01T00:00:00Z') / 1000);

/** OpenAI's model object, plus what an operator needs to see: where it runs and whether it can. */
function describe(catalog: ModelCatalog, id: string) {
  const model = catalog.get(id)!;
  const isLocal = catalog.isLocal(id);
  return {
    id: model.id,
    object: 'model' as const,
    created: CREATED,
    owned_by: isLocal ? 'local' : model.backend,
    sluice: {
      backend: model.backend,
      location: isLocal ? 'local' : 'vendor',
      available: catalog.isAvailable(model.backend),
      capabilities: model.capabilities,
      price_per_1m: { input: model.price.input_per_1m, output: model.price.output_per_1m },
      fallback: model.fallback,
    },
  };
}

export function listModelsRoute(catalog: ModelCatalog) {
  return (_request: Request, response: Response) => {
    const tenant = stateOf(response).tenant!;
    const models = catalog.models().filter((model) => mayUseModel(tenant, model.id)).map((model) => describe(catalog, model.id));
    const aliases = catalog
      .aliases()
      .filter((alias) => mayUseModel(tenant, alias))
      .map((alias) => ({ id: alias, object: 'model' as const, created: CREATED, owned_by: 'sluice', sluice: { router: true } }));
    response.json({ object: 'list', data: [...models, ...aliases] });
  };
}

export function getModelRoute(catalog: ModelCatalog) {
  return (request: Request, response: Response) => {
    const id = String(request.params.model);
    const tenant = stateOf(response).tenant!;
    if (!catalog.get(id) || !mayUseModel(tenant, id)) {
      throw new SluiceError('not-found', `The model '${id}' does not exist or you do not have access to it.`, { param: 'model', code: 'model_not_found' });
    }
    response.json(describe(catalog, id));
  };
}
