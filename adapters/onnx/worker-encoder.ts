import { SluiceError } from '../spec/index.js';
import type { EncoderSettings } from './onnx-encoder.js';
import { padBatch, type PaddedBatch, type Segments } from './pooling.js';
import type { EncodeReply, WorkerSetup } from './worker-protocol.js';
import { siblingEntry, WorkerThread } from './worker-thread.js';

export interface WorkerEncoderOptions {
  modelPath: string;
  settings: EncoderSettings;
  padId: number;
  /** A cross-encoder's: how its pairs' second segments are marked. */
  segments?: Segments;
  /** The worker's module; tests substitute one that can fail on demand. */
  entry?: URL;
}

type EncoderThread = WorkerThread<undefined, PaddedBatch, EncodeReply>;

/**
 * Runs the model on a worker thread (onnx-worker.ts) so that inference never blocks the
 * gateway's event loop; padding stays here, cheap next to a run. Batches' tensors are
 * transferred to the worker and the vectors transferred back. A worker that dies fails the
 * batches it held with `upstream-unavailable`, and the next batch starts a fresh one.
 */
export class WorkerEncoder {
  private thread: EncoderThread | undefined;
  private isClosed = false;

  private constructor(private readonly options: WorkerEncoderOptions) {}

  /** Resolves once the worker has loaded the session; rejects with the reason it could not. */
  static async start(options: WorkerEncoderOptions): Promise<WorkerEncoder> {
    const encoder = new WorkerEncoder(options);
    await encoder.loadedThread();
    return encoder;
  }

  /** One run: every sequence padded to the longest, one vector per sequence, in order. */
  async encode(sequences: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const thread = await this.loadedThread();
    const batch = padBatch(sequences, this.options.padId, this.options.segments);
    const reply = await thread.call(batch, [batch.inputIds.buffer, batch.attentionMask.buffer, batch.tokenTypeIds.buffer] as ArrayBuffer[]);
    if (reply.type === 'encode-failed') throw new Error(reply.message);
    return splitRows(reply.vectors, batch.batchSize);
  }

  /** Ends the worker; batches still in it fail with `upstream-unavailable`. */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.thread?.stop();
  }

  private async loadedThread(): Promise<EncoderThread> {
    if (this.isClosed) throw new SluiceError('upstream-unavailable', 'the embedding model is shutting down');
    if (!this.thread || this.thread.hasExited) {
      const setup: WorkerSetup = { modelPath: this.options.modelPath, settings: this.options.settings };
      this.thread = new WorkerThread(this.options.entry ?? siblingEntry(import.meta.url, 'onnx-worker'), setup, 'embedding worker');
    }
    const thread = this.thread;
    await thread.loaded;
    return thread;
  }
}

function splitRows(packed: Float32Array, rows: number): Float32Array[] {
  const dimensions = packed.length / rows;
  return Array.from({ length: rows }, (_, row) => packed.subarray(row * dimensions, (row + 1) * dimensions));
}
