import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { InputLimits } from './input-limits.js';
import type { Pooling } from './pooling.js';

/**
 * The options every ONNX model backend takes (embeddings, classifiers): where the model is, how
 * its runs are batched and threaded, and the per-request limits. Each kind of model adds its own.
 */
export const modelRunOptionsShape = {
  /** The model's directory, relative to paths.models_dir (SLUICE_MODELS_DIR). */
  model_dir: z.string().min(1),
  /** The graph inside model_dir, written by scripts/convert-embeddings-onnx.py. */
  model_file: z.string().min(1).default('model.onnx'),
  /** Tokens per input, [CLS]/[SEP] included; longer inputs are cut. Default: the model's own. */
  max_length: z.number().int().min(2).optional(),
  max_batch: z.number().int().min(1).max(4096).default(32),
  /**
   * Most padded tokens (inputs × the longest) in one model run. A run's time grows with them:
   * ~0.22 ms a token on 2 cores (32 × 256 tokens took 1.8 s, 8 × 256 0.42 s, the same per token),
   * and a request arriving behind a big batch waits for about two runs.
   */
  max_batch_tokens: z.number().int().min(1).default(2048),
  batch_window_ms: z.number().min(0).max(1000).default(2),
  /** onnxruntime intra-op threads. Default: every core Node may use. */
  threads: z.number().int().min(1).max(1024).optional(),
  /**
   * Let idle intra-op threads busy-wait for the next parallel section (onnxruntime's default).
   * Off here: the gateway's own thread (HTTP, tokenising) and llama.cpp share these cores, and
   * spinning threads starve them — measured on 2 cores, a batch-1 run took 11–15 ms spinning
   * against 4.6 ms not, with other processes busy.
   */
  spin_threads: z.boolean().default(false),
  /**
   * Per-request limits, refused with a 400 before any model work (input-limits.ts). OpenAI's by
   * default; the gateway's request schema refuses more than 2,048 inputs whatever this says.
   */
  max_inputs: z.number().int().min(1).max(2048).default(2048),
  /** Tokens of one input, counted by the model's tokenizer before it is cut to max_length. */
  max_input_tokens: z.number().int().min(1).default(8192),
  max_request_tokens: z.number().int().min(1).default(300_000),
};

/** `backends.<id>.options` of an `onnx` (embedding) backend. */
const optionsSchema = z.strictObject({
  ...modelRunOptionsShape,
  /** Default: the model's 1_Pooling/config.json, else mean. */
  pooling: z.enum(['mean', 'cls']).optional(),
  normalize: z.boolean().default(true),
});

/** What resolveRunSettings reads: the options every ONNX backend shares. */
export type ModelRunOptions = z.infer<z.ZodObject<typeof modelRunOptionsShape>>;

export type OnnxOptions = z.infer<typeof optionsSchema>;

export function parseOnnxOptions(raw: Record<string, unknown>, backendId: string): OnnxOptions {
  return parseModelOptions(optionsSchema, raw, backendId);
}

/** Config errors name the field as the config loader does: `backends.embed.options.max_batch: …`. */
export function parseModelOptions<T extends z.ZodType>(schema: T, raw: Record<string, unknown>, backendId: string): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
    return `backends.${backendId}.options${field}: ${issue.message}`;
  });
  throw new Error(lines.join('\n'));
}

/** The JSON files of a sentence-transformers model directory that bear on inference. */
export interface ModelDescription {
  /** config.json (Hugging Face transformers). */
  config: { max_position_embeddings?: number };
  /** tokenizer_config.json. */
  tokenizerConfig: { model_max_length?: number };
  /** sentence_bert_config.json, when the model is a sentence-transformers one. */
  sentenceBertConfig?: { max_seq_length?: number };
  /** 1_Pooling/config.json, likewise. */
  poolingConfig?: { pooling_mode_cls_token?: boolean; pooling_mode_mean_tokens?: boolean };
}

/** How a model's runs go, whatever it computes. */
export interface RunSettings {
  maxLength: number;
  maxBatch: number;
  maxBatchTokens: number;
  batchWindowMs: number;
  threads: number;
  spinThreads: boolean;
  limits: InputLimits;
}

export interface ResolvedSettings extends RunSettings {
  pooling: Pooling;
  normalize: boolean;
}

/**
 * Fills what the operator left out from the model's own files, as sentence-transformers would
 * load it: max_seq_length (256 for all-MiniLM-L6-v2, below its tokenizer's 512, because it was
 * trained on 256), the pooling mode (CLS for BGE), and refuses settings the model cannot run.
 */
export function resolveSettings(options: OnnxOptions, model: ModelDescription, backendId: string): ResolvedSettings {
  const run = resolveRunSettings(options, model, backendId);
  return { ...run, pooling: options.pooling ?? poolingOf(model.poolingConfig, backendId), normalize: options.normalize };
}

/** The shared part of resolveSettings, for every ONNX model: the longest input it can take, batching, threads, limits. */
export function resolveRunSettings(options: ModelRunOptions, model: ModelDescription, backendId: string): RunSettings {
  const positions = model.config.max_position_embeddings;
  const declaredMaxLength = [model.sentenceBertConfig?.max_seq_length, model.tokenizerConfig.model_max_length, positions].find(
    // tokenizer_config.json says 1e30 when the tokenizer itself has no limit.
    (value): value is number => typeof value === 'number' && value > 0 && value < 1_000_000,
  );
  const maxLength = options.max_length ?? declaredMaxLength ?? 512;
  if (positions !== undefined && maxLength > positions) {
    throw new Error(`backends.${backendId}.options.max_length: ${maxLength} is more than the model's ${positions} position embeddings`);
  }
  return {
    maxLength,
    maxBatch: options.max_batch,
    maxBatchTokens: options.max_batch_tokens,
    batchWindowMs: options.batch_window_ms,
    threads: options.threads ?? availableParallelism(),
    spinThreads: options.spin_threads,
    limits: { maxInputs: options.max_inputs, maxInputTokens: options.max_input_tokens, maxRequestTokens: options.max_request_tokens },
  };
}

function poolingOf(config: ModelDescription['poolingConfig'], backendId: string): Pooling {
  if (!config) return 'mean';
  if (config.pooling_mode_cls_token) return 'cls';
  if (config.pooling_mode_mean_tokens) return 'mean';
  throw new Error(`backends.${backendId}.options.pooling: the model's 1_Pooling/config.json asks for a pooling mode other than mean or cls; set pooling explicitly`);
}
