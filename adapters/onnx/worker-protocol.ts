/**
 * The messages between the gateway's thread and its two worker threads: the model's
 * (worker-encoder.ts ↔ onnx-worker.ts) and the tokenizer's (worker-tokenizer.ts ↔
 * tokenizer-worker.ts). Types only: importing them loads no runtime.
 */
import type { EncoderSettings } from './onnx-encoder.js';
import type { SegmentMarks } from './model-tokenizer.js';
import type { PaddedBatch } from './pooling.js';

/** A worker's first message: loaded (with what its owner needs to know), or why not. */
export type LoadReply<Info = undefined> = { type: 'loaded'; info?: Info } | { type: 'load-failed'; message: string };

/** `workerData` of the model's worker: what it loads. */
export interface WorkerSetup {
  modelPath: string;
  settings: EncoderSettings;
}

/** One run; its three tensors' buffers are transferred, not copied. */
export interface BatchMessage extends PaddedBatch {
  id: number;
}

export type EncodeReply =
  /** Row-major [batchSize, dimensions], in one transferred buffer. */
  | { type: 'encoded'; id: number; vectors: Float32Array }
  /** The run threw (onnxruntime refused the batch); the worker carries on. */
  | { type: 'encode-failed'; id: number; message: string };

export type WorkerReply = LoadReply | EncodeReply;

/** `workerData` of the tokenizer's worker. */
export interface TokenizerSetup {
  /** The model's tokenizer.json. */
  tokenizerPath: string;
  /** Its tokenizer_config.json, parsed ({} when the model has none). */
  tokenizerConfig: object;
}

export interface TokenizerInfo {
  padId: number;
  /** How a pair's second segment is found; absent when the tokenizer has no pair template. */
  segmentMarks?: SegmentMarks;
}

/** Token budgets of one slice of a request's inputs. */
export interface SliceLimits {
  /** Most text tokens in one input. */
  maxInputTokens: number;
  /** Text tokens the request may still spend, in this slice and the ones after it. */
  tokensLeft: number;
}

/** Some of one request's texts, to be tokenised as the model sees them. */
export interface TokenizeRequest {
  texts: string[];
  /** Tokens per sequence, template included; longer texts are cut. */
  maxLength: number;
  /** Absent: nothing is counted, and only what the model sees is read of each text. */
  limits?: SliceLimits;
  /** A cross-encoder's query: each text is then encoded as the pair (query, text). */
  query?: string;
}

export interface TokenizeMessage extends TokenizeRequest {
  id: number;
}

export type TokenizeReply =
  /** One sequence per text; `tokens`: the texts' own tokens in all (templates excluded, before cutting). */
  | { type: 'tokenized'; id: number; sequences: number[][]; tokens: number }
  /**
   * Text `index` of the slice broke a limit, and the rest is unread: it alone has more than
   * maxInputTokens ('input'), or the slice, up to it, more than tokensLeft ('request').
   * `tokens`: counted so far (of that text, or of the slice), already past the limit.
   */
  | { type: 'over-limit'; id: number; index: number; limit: 'input' | 'request'; tokens: number }
  | { type: 'tokenize-failed'; id: number; message: string };
