/**
 * The messages between the gateway's thread (worker-encoder.ts) and the worker thread that owns
 * the onnxruntime session (onnx-worker.ts). Types only: importing them loads no runtime.
 */
import type { EncoderSettings } from './onnx-encoder.js';
import type { PaddedBatch } from './pooling.js';

/** `workerData`: what the worker loads. */
export interface WorkerSetup {
  modelPath: string;
  settings: EncoderSettings;
}

/** One run; its three tensors' buffers are transferred, not copied. */
export interface BatchMessage extends PaddedBatch {
  id: number;
}

export type WorkerReply =
  | { type: 'loaded' }
  | { type: 'load-failed'; message: string }
  /** Row-major [batchSize, dimensions], in one transferred buffer. */
  | { type: 'encoded'; id: number; vectors: Float32Array }
  /** The run threw (onnxruntime refused the batch); the worker carries on. */
  | { type: 'encode-failed'; id: number; message: string };
