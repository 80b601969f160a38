import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Adapter, AdapterFactory, AdapterSettings, CallOptions, EmbeddingRequest, EmbeddingResult } from '../spec/index.js';
import { SluiceError } from '../spec/index.js';
import { parseOnnxOptions, resolveSettings, type ModelDescription, type OnnxOptions, type ResolvedSettings } from './embedding-options.js';
import { MicroBatcher } from './micro-batcher.js';
import { ModelTokenizer } from './model-tokenizer.js';
import { WorkerEncoder } from './worker-encoder.js';

interface LoadedModel {
  tokenizer: ModelTokenizer;
  encoder: WorkerEncoder;
  batcher: MicroBatcher;
  settings: ResolvedSettings;
}

/**
 * A local sentence-embedding model (all-MiniLM-L6-v2 by default, BGE-small alike) run by
 * onnxruntime on a worker thread of this process (a run would block the event loop), tokenised
 * on this thread by the model's own tokenizer.json. Concurrent calls share model runs through
 * a micro-batcher. Vectors come back full length and, by default, unit length; the pipeline
 * applies `dimensions`.
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
      const sequences =
        request.input.kind === 'text'
          ? request.input.values.map((text) => tokenizer.encodeText(text, settings.maxLength))
          : request.input.values.map((ids, index) => tokenizer.encodeTokens(ids, settings.maxLength, index));
      const promptTokens = sequences.reduce((sum, ids) => sum + ids.length, 0);

      const deadline = new AbortController();
      const timer = setTimeout(
        () => deadline.abort(new SluiceError('timeout', `${adapterSettings.id}: no embedding within ${call.timeoutMs} ms`)),
        call.timeoutMs,
      );
      try {
        const vectors = await batcher.embed(sequences, AbortSignal.any([call.signal, deadline.signal]));
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
        async ({ batcher, encoder }) => {
          await batcher.close();
          await encoder.close();
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
  const [tokenizerJson, tokenizerConfig, config, sentenceBertConfig, poolingConfig] = await Promise.all([
    readJson(join(modelDir, 'tokenizer.json')),
    readOptionalJson(join(modelDir, 'tokenizer_config.json')),
    readOptionalJson(join(modelDir, 'config.json')),
    readOptionalJson(join(modelDir, 'sentence_bert_config.json')),
    readOptionalJson(join(modelDir, '1_Pooling', 'config.json')),
  ]);
  const description = { config: config ?? {}, tokenizerConfig: tokenizerConfig ?? {}, sentenceBertConfig, poolingConfig } as ModelDescription;
  const settings = resolveSettings(options, description, adapterSettings.id);
  const tokenizer = ModelTokenizer.fromJson(tokenizerJson as object, description.tokenizerConfig, description.config.vocab_size);
  const encoder = await WorkerEncoder.start({
    modelPath,
    settings: { threads: settings.threads, spinThreads: settings.spinThreads, pooling: settings.pooling, normalize: settings.normalize },
    padId: tokenizer.padId,
  });
  const batcher = new MicroBatcher((sequences) => encoder.encode(sequences), { maxBatch: settings.maxBatch, windowMs: settings.batchWindowMs });
  adapterSettings.log?.('info', 'embedding model loaded', {
    modelDir,
    maxLength: settings.maxLength,
    pooling: settings.pooling,
    threads: settings.threads,
    spinThreads: settings.spinThreads,
    maxBatch: settings.maxBatch,
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
