import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AdapterSettings } from '../spec/index.js';
import { SluiceError } from '../spec/index.js';
import type { ModelDescription, ModelRunOptions, RunSettings } from './embedding-options.js';
import { checkClientTokenCounts, checkInputCount } from './input-limits.js';
import { MicroBatcher } from './micro-batcher.js';
import type { EncoderSettings } from './onnx-encoder.js';
import { WorkerEncoder } from './worker-encoder.js';
import { WorkerTokenizer } from './worker-tokenizer.js';

/** What a kind of model (embeddings, a classifier) adds to the shared loading. */
export interface OnnxModelKind<Settings extends RunSettings> {
  /** Names the model in logs and errors: "embedding model", "classifier". */
  what: string;
  /** Its settings, from the options and the model's own files (config.json whole); throws on settings it cannot run. */
  settings(description: ModelDescription): Settings;
  /** What the worker computes from the graph's outputs. */
  encoder(settings: Settings): Pick<EncoderSettings, 'pooling' | 'normalize' | 'output'>;
  /** How to get the weights, for the message when model_file is missing. */
  fetchHint(modelDir: string): string;
  /**
   * Missing weights leave the gateway ready, and every call answers 503 `model_weights_missing`
   * (an optional model: a classifier whose weights the operator has not dropped in yet). Else
   * ready() rejects too, and /ready says why (the default embedding model, which setup fetches).
   */
  isOptional: boolean;
  /** A cross-encoder: it reads (query, text) pairs, so its tokenizer must have a pair template. */
  readsPairs?: boolean;
}

interface Loaded<Settings> {
  tokenizer: WorkerTokenizer;
  encoder: WorkerEncoder;
  batcher: MicroBatcher;
  settings: Settings;
}

export interface RunRequest {
  texts: readonly string[];
  /** The inputs the caller sent, when `texts` are pieces of them (moderation's windows): what max_inputs counts. */
  inputCount?: number;
  /** Names the model in limit errors. */
  model: string;
  /** The client's own token counts per input, when the texts were decoded from token ids. */
  clientTokenCounts?: readonly number[];
  /** A cross-encoder's query: each text is read as the pair (query, text). */
  query?: string;
  signal: AbortSignal;
  timeoutMs: number;
}

/** One output row per text (a sentence vector or a classifier's logits), and the tokens the model saw. */
export interface RunResult {
  rows: Float32Array[];
  promptTokens: number;
}

/**
 * One loader for every ONNX model of the gateway: the model's own tokenizer.json on a worker
 * thread (tokenising a 3.9 MB input would hold the event loop for seconds), onnxruntime on a
 * second one, concurrent calls merged into shared runs by the micro-batcher, the input limits
 * enforced while tokenising, the call's deadline, and the `model_weights_missing` error. A kind
 * of model (onnx-embedding-adapter.ts, onnx-classifier-adapter.ts) adds its options and what
 * it makes of the output rows. The model loads in the background from construction.
 */
export class OnnxModel<Settings extends RunSettings> {
  private readonly loading: Promise<Loaded<Settings>>;
  private closing: Promise<void> | undefined;
  private missingWeights = false;

  constructor(
    private readonly adapterSettings: AdapterSettings,
    options: ModelRunOptions,
    private readonly kind: OnnxModelKind<Settings>,
  ) {
    this.loading = load(adapterSettings, resolve(adapterSettings.paths.modelsDir, options.model_dir), options.model_file, kind);
    // Nobody may be awaiting yet; a load failure is reported by ready() and by every call.
    this.loading.catch((error: unknown) => {
      this.missingWeights = isWeightsMissing(error);
    });
  }

  /** True once loading found no weights file (false while it is still loading). */
  get isMissingWeights(): boolean {
    return this.missingWeights;
  }

  /** Settles once loaded; an optional model whose weights are missing counts as ready (its calls say why not). */
  async ready(): Promise<void> {
    try {
      await this.loading;
    } catch (error) {
      if (this.kind.isOptional && isWeightsMissing(error)) {
        this.adapterSettings.log?.('warn', (error as Error).message);
        return;
      }
      throw error;
    }
  }

  /** The model, loaded; or why not, as `upstream-unavailable` (with `code: model_weights_missing` when that is why). */
  async loaded(): Promise<Loaded<Settings>> {
    const { id } = this.adapterSettings;
    if (this.closing) throw new SluiceError('upstream-unavailable', `${id}: the ${this.kind.what} is shutting down`);
    try {
      return await this.loading;
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      throw new SluiceError('upstream-unavailable', `${id}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Tokenises `texts` within the limits and runs them, all under the call's signal and deadline. */
  async run(request: RunRequest): Promise<RunResult> {
    const { tokenizer, batcher, settings } = await this.loaded();
    const { id } = this.adapterSettings;
    checkInputCount(request.inputCount ?? request.texts.length, settings.limits, request.model);
    if (request.clientTokenCounts) checkClientTokenCounts(request.clientTokenCounts, settings.limits, request.model);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new SluiceError('timeout', `${id}: no answer from the ${this.kind.what} within ${request.timeoutMs} ms`)), request.timeoutMs);
    const signal = AbortSignal.any([request.signal, deadline.signal]);
    try {
      const sequences = await tokenizer.tokenize(request.texts, {
        maxLength: settings.maxLength,
        limits: request.clientTokenCounts ? undefined : settings.limits,
        model: request.model,
        signal,
        query: request.query,
      });
      const promptTokens = sequences.reduce((sum, ids) => sum + ids.length, 0);
      return { rows: await batcher.embed(sequences, signal), promptTokens };
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      throw new SluiceError('upstream-unavailable', `${id}: onnxruntime failed: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.loading.then(
      async ({ batcher, encoder, tokenizer }) => {
        await batcher.close();
        await Promise.all([encoder.close(), tokenizer.close()]);
      },
      () => undefined,
    );
    return this.closing;
  }
}

/**
 * The 503 of a model whose weights are not under SLUICE_MODELS_DIR: OpenAI's error shape with
 * `code: model_weights_missing`, naming the file expected and how to fetch it.
 */
export function weightsMissing(backendId: string, modelPath: string, hint: string): SluiceError {
  return new SluiceError('upstream-unavailable', `${backendId}: ${modelPath} not found: ${hint}`, { code: 'model_weights_missing' });
}

function isWeightsMissing(error: unknown): boolean {
  return error instanceof SluiceError && error.detail.code === 'model_weights_missing';
}

async function load<Settings extends RunSettings>(adapterSettings: AdapterSettings, modelDir: string, modelFile: string, kind: OnnxModelKind<Settings>): Promise<Loaded<Settings>> {
  const started = performance.now();
  const modelPath = join(modelDir, modelFile);
  if (!existsSync(modelPath)) throw weightsMissing(adapterSettings.id, modelPath, kind.fetchHint(modelDir));
  const [tokenizerConfig, config, sentenceBertConfig, poolingConfig] = await Promise.all([
    readOptionalJson(join(modelDir, 'tokenizer_config.json')),
    readOptionalJson(join(modelDir, 'config.json')),
    readOptionalJson(join(modelDir, 'sentence_bert_config.json')),
    readOptionalJson(join(modelDir, '1_Pooling', 'config.json')),
  ]);
  const description = { config: config ?? {}, tokenizerConfig: tokenizerConfig ?? {}, sentenceBertConfig, poolingConfig } as ModelDescription;
  const settings = kind.settings(description);
  // tokenizer.json (700 kB for MiniLM) is read and parsed by the tokenizer's own thread.
  const tokenizer = await WorkerTokenizer.start({ tokenizerPath: join(modelDir, 'tokenizer.json'), tokenizerConfig: description.tokenizerConfig });
  let encoder: WorkerEncoder;
  try {
    if (kind.readsPairs && !tokenizer.segmentMarks) throw new Error(`${join(modelDir, 'tokenizer.json')}: no pair template, so the ${kind.what} cannot read (query, document) pairs`);
    encoder = await WorkerEncoder.start({
      segments: kind.readsPairs ? tokenizer.segmentMarks : undefined,
      modelPath,
      settings: { threads: settings.threads, spinThreads: settings.spinThreads, ...kind.encoder(settings) },
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
  adapterSettings.log?.('info', `${kind.what} loaded`, {
    modelDir,
    maxLength: settings.maxLength,
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
