import * as ort from 'onnxruntime-node';
import { l2Normalize, poolHiddenStates, type PaddedBatch, type Pooling } from './pooling.js';

export interface EncoderSettings {
  threads: number;
  spinThreads: boolean;
  pooling: Pooling;
  normalize: boolean;
  /**
   * What the graph ends in: an encoder's `last_hidden_state`, pooled (and normalised) into one
   * vector per sequence (the default), or a classifier head's `logits` [batch, labels], one row
   * per sequence as they are (pooling and normalize do not apply).
   */
  output?: EncoderOutput;
}

export type EncoderOutput = 'last_hidden_state' | 'logits';

/** The tensors an encoder export may take, by the names Hugging Face exports use. */
const FEEDS: Record<string, (batch: PaddedBatch) => BigInt64Array> = {
  input_ids: (batch) => batch.inputIds,
  attention_mask: (batch) => batch.attentionMask,
  token_type_ids: (batch) => batch.tokenTypeIds,
};

/**
 * One onnxruntime session over a transformer encoder: padded token tensors in, sentence vectors
 * (or a classifier's logits) out. It lives on the worker thread (onnx-worker.ts): a run blocks
 * the thread that calls it.
 */
export class OnnxEncoder {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly settings: EncoderSettings,
  ) {}

  static async load(modelPath: string, settings: EncoderSettings): Promise<OnnxEncoder> {
    const session = await ort.InferenceSession.create(modelPath, {
      executionProviders: ['cpu'],
      intraOpNumThreads: settings.threads,
      // One graph branch at a time; the parallelism is inside each MatMul (intra-op).
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Flattened by the Node binding into the session config key session.intra_op.allow_spinning.
      extra: { session: { intra_op: { allow_spinning: settings.spinThreads ? '1' : '0' } } },
    });
    const output = settings.output ?? 'last_hidden_state';
    const unknown = session.inputNames.filter((name) => !(name in FEEDS));
    if (unknown.length > 0 || !session.inputNames.includes('input_ids') || !session.outputNames.includes(output)) {
      await session.release();
      throw new Error(
        `${modelPath}: expected inputs from (${Object.keys(FEEDS).join(', ')}) and output ${output}, ` +
          `found (${session.inputNames.join(', ')}) → (${session.outputNames.join(', ')})`,
      );
    }
    return new OnnxEncoder(session, settings);
  }

  /** One run over a batch padded by padBatch: one vector per row, in order. */
  async encode(batch: PaddedBatch): Promise<Float32Array[]> {
    const dims = [batch.batchSize, batch.sequenceLength];
    const feeds = Object.fromEntries(this.session.inputNames.map((name) => [name, new ort.Tensor('int64', FEEDS[name](batch), dims)]));
    const output = this.settings.output ?? 'last_hidden_state';
    const outputs = await this.session.run(feeds, [output]);
    if (output === 'logits') return rowsOf(outputs.logits.data as Float32Array, batch.batchSize);
    const hidden = outputs[output];
    const hiddenSize = Number(hidden.dims[2]);
    const vectors = poolHiddenStates(hidden.data as Float32Array, batch, hiddenSize, this.settings.pooling);
    return this.settings.normalize ? vectors.map(l2Normalize) : vectors;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** [rows, width] row-major → one copy per row. */
function rowsOf(values: Float32Array, rows: number): Float32Array[] {
  const width = values.length / rows;
  return Array.from({ length: rows }, (_, row) => values.slice(row * width, (row + 1) * width));
}
