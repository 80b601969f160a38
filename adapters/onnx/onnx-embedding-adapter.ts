import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Adapter, AdapterFactory, AdapterSettings, CallOptions, EmbeddingRequest, EmbeddingResult } from '../spec/index.js';
import { SluiceError } from '../spec/index.js';
import { parseOnnxOptions, resolveSettings, type ModelDescription, type OnnxOptions, type ResolvedSettings } from './embedding-options.js';
import { checkClientTokenCounts, checkInputCount } from './input-limits.js';
import { MicroBatcher } from './micro-batcher.js';
import { WorkerEncoder } from './worker-encoder.js';
import { WorkerTokenizer } from './worker-tokenizer.js';

interface LoadedModel {
  tokenizer: WorkerTokenizer;
  encoder: WorkerEncoder;
  batcher: MicroBatcher;
  settings: ResolvedSettings;
}

/**
 * A local sentence-embedding model (all-MiniLM-L6-v2 by default, BGE-small alike) run by
 * onnxruntime on a worker thread of this process (a run would block the event loop), tokenised
 * by the model's own tokenizer.json on a second worker thread (so is a 3.9 MB input). Input
 * limits are enforced while tokenising, before any model run (input-limits.ts). Concurrent calls
 * share model runs through a micro-batcher, fairly. Vectors come back full length and, by
 * default, unit length; the pipeline applies `dimensions`.
 *
 * It embeds text: token ids are OpenAI tokens, which the gateway decodes to text before they
 * come here (src/pipeline/token-input.ts), since this model's vocabulary is another.
 *
 * Options are checked when the gateway is built (a typo fails start-up, naming the field);
 * the model loads in the background and `ready()` settles when it has.
 */
export const createOnnxEmbeddingAdapter: AdapterFactory = (adapterSettings) => {
  const options = parseOnnxOptions(adapterSettings.options, adapterSettings.id);
  const modelDir = resolve(adapterSettings.paths.modelsDir, options.model_dir);
  const loading = loadModel(adapterSettings, modelDir, options);
  // Nobody may be awaiting yet; a load failure is reported by ready() and by every embed().
  loading.catch(() => undefined);
  let closing: Promise<void> | undefined;

  async function model(): Promise<LoadedModel> {
    if (closing) throw new SluiceError('upstream-unavailable', `${adapterSettings.id}: the embedding model is shutting down`);
    try {
      return await loading;
    } catch (error) {
      throw new SluiceError('upstream-unavailable', `${adapterSettings.id}: ${(error as Error).message}`, { cause: error });
    }
  }

  const adapter: Adapter = {
    id: adapterSettings.id,
    location: 'local',
    capabilities: new Set(['embed']),

    async ready() {
      await loading;
    },

    async embed(request: EmbeddingRequest, call: CallOptions): Promise<EmbeddingResult> {
      const { tokenizer, batcher, settings } = await model();
      if (request.input.kind === 'tokens') {
        throw new SluiceError('invalid-request', `${adapterSettings.id} embeds text; token ids reach it decoded to text by the gateway`, { param: 'input' });
      }
      checkInputCount(request.input.values.length, settings.limits, request.model);
      if (request.clientTokenCounts) checkClientTokenCounts(request.clientTokenCounts, settings.limits, request.model);

      const deadline = new AbortController();
      const timer = setTimeout(
        () => deadline.abort(new SluiceError('timeout', `${adapterSettings.id}: no embedding within ${call.timeoutMs} ms`)),
        call.timeoutMs,
      );
      const signal = AbortSignal.any([call.signal, deadline.signal]);
      try {
        const sequences = await tokenizer.tokenize(request.input.values, {
          maxLength: settings.maxLength,
          limits: request.clientTokenCounts ? undefined : settings.limits,
          model: request.model,
          signal,
        });
        const promptTokens = sequences.reduce((sum, ids) => sum + ids.length, 0);
        const vectors = await batcher.embed(sequences, signal);
        return { model: request.model, vectors: vectors.map((vector) => Array.from(vector)), usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
      } catch (error) {
        if (error instanceof SluiceError) throw error;
        throw new SluiceError('upstream-unavailable', `${adapterSettings.id}: onnxruntime failed: ${(error as Error).message}`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    },

    close() {
      closing ??= loading.then(
        async ({ batcher, encoder, tokenizer }) => {
          await batcher.close();
          await Promise.all([encoder.close(), tokenizer.close()]);
        },
        () => undefined,
      );
      return closing;
    },
  };
  return adapter;
};

async function loadModel(adapterSettings: AdapterSettings, modelDir: string, options: OnnxOptions): Promise<LoadedModel> {
  const started = performance.now();
  const modelPath = join(modelDir, options.model_file);
  if (!existsSync(modelPath)) {
    const hint = existsSync(join(modelDir, 'model.safetensors'))
      ? `run make setup (or scripts/convert-embeddings-onnx.py ${modelDir})`
      : 'run make setup to fetch the weights';
    throw new Error(`${modelPath} not found: ${hint}`);
  }
  const [tokenizerConfig, config, sentenceBertConfig, poolingConfig] = await Promise.all([
    readOptionalJson(join(modelDir, 'tokenizer_config.json')),
    readOptionalJson(join(modelDir, 'config.json')),
    readOptionalJson(join(modelDir, 'sentence_bert_config.json')),
    readOptionalJson(join(modelDir, '1_Pooling', 'config.json')),
  ]);
  const description = { config: config ?? {}, tokenizerConfig: tokenizerConfig ?? {}, sentenceBertConfig, poolingConfig } as ModelDescription;
  const settings = resolveSettings(options, description, adapterSettings.id);
  // tokenizer.json (700 kB for MiniLM) is read and parsed by the tokenizer's own thread.
  const tokenizer = await WorkerTokenizer.start({ tokenizerPath: join(modelDir, 'tokenizer.json'), tokenizerConfig: description.tokenizerConfig });
  let encoder: WorkerEncoder;
  try {
    encoder = await WorkerEncoder.start({
      modelPath,
      settings: { threads: settings.threads, spinThreads: settings.spinThreads, pooling: settings.pooling, normalize: settings.normalize },
      padId: tokenizer.padId,
    });
  } catch (error) {
    await tokenizer.close();
    throw error;
  }
  const batcher = new MicroBatcher((sequences) => encoder.encode(sequences), {
    maxBatch: settings.maxBatch,
    maxBatchTokens: settings.maxBatchTokens,
    windowMs: settings.batchWindowMs,
  });
  adapterSettings.log?.('info', 'embedding model loaded', {
    modelDir,
    maxLength: settings.maxLength,
    pooling: settings.pooling,
    threads: settings.threads,
    spinThreads: settings.spinThreads,
    maxBatch: settings.maxBatch,
    maxBatchTokens: settings.maxBatchTokens,
    loadMs: Math.round(performance.now() - started),
  });
  return { tokenizer, encoder, batcher, settings };
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8'); // its error names the path already
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Files a model may lack (a plain transformers model has no sentence_bert_config.json). */
async function readOptionalJson(path: string): Promise<unknown> {
  return existsSync(path) ? readJson(path) : undefined;
}
