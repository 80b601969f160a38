import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Adapter, AdapterFactory, CallOptions, EmbeddingRequest, EmbeddingResult } from '../spec/index.js';
import { SluiceError } from '../spec/index.js';
import { parseOnnxOptions, resolveSettings, type ResolvedSettings } from './embedding-options.js';
import { OnnxModel } from './onnx-model.js';

/**
 * A local sentence-embedding model (all-MiniLM-L6-v2 by default, BGE-small alike), loaded and
 * run by the shared ONNX loader (onnx-model.ts): tokenised by the model's own tokenizer.json and
 * run by onnxruntime, each on a worker thread, concurrent calls sharing model runs fairly, input
 * limits enforced while tokenising. Vectors come back full length and, by default, unit length;
 * the pipeline applies `dimensions`.
 *
 * It embeds text: token ids are OpenAI tokens, which the gateway decodes to text before they
 * come here (src/pipeline/token-input.ts), since this model's vocabulary is another.
 *
 * Options are checked when the gateway is built (a typo fails start-up, naming the field);
 * the model loads in the background and `ready()` settles when it has.
 */
export const createOnnxEmbeddingAdapter: AdapterFactory = (adapterSettings) => {
  const options = parseOnnxOptions(adapterSettings.options, adapterSettings.id);
  const model = new OnnxModel<ResolvedSettings>(adapterSettings, options, {
    what: 'embedding model',
    settings: (description) => resolveSettings(options, description, adapterSettings.id),
    encoder: (settings) => ({ output: 'last_hidden_state', pooling: settings.pooling, normalize: settings.normalize }),
    fetchHint: (modelDir) =>
      existsSync(join(modelDir, 'model.safetensors')) ? `run make setup (or scripts/convert-embeddings-onnx.py ${modelDir})` : 'run make setup to fetch the weights',
    isOptional: false,
  });

  const adapter: Adapter = {
    id: adapterSettings.id,
    location: 'local',
    capabilities: new Set(['embed']),

    ready: () => model.ready(),

    async embed(request: EmbeddingRequest, call: CallOptions): Promise<EmbeddingResult> {
      await model.loaded();
      if (request.input.kind === 'tokens') {
        throw new SluiceError('invalid-request', `${adapterSettings.id} embeds text; token ids reach it decoded to text by the gateway`, { param: 'input' });
      }
      const { rows, promptTokens } = await model.run({
        texts: request.input.values,
        model: request.model,
        clientTokenCounts: request.clientTokenCounts,
        signal: call.signal,
        timeoutMs: call.timeoutMs,
      });
      return { model: request.model, vectors: rows.map((vector) => Array.from(vector)), usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
    },

    close: () => model.close(),
  };
  return adapter;
};
