/**
 * The arithmetic around one ONNX run: token sequences → padded int64 tensors, and the encoder's
 * last_hidden_state → one sentence vector per sequence. Pure, so it is tested without a model.
 */

export type Pooling = 'mean' | 'cls';

/** Row-major [batchSize, sequenceLength] tensors, right-padded, as the ONNX graph takes them. */
export interface PaddedBatch {
  batchSize: number;
  sequenceLength: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  /** Segment A (0) for a single text; a cross-encoder's pair marks its second segment (`segments`). */
  tokenTypeIds: BigInt64Array;
}

/** Where a pair's second segment starts: after the first `separatorId` past the row's first token. */
export interface Segments {
  separatorId: number;
  secondTypeId: number;
}

/**
 * Pads every sequence to the longest one with `padId`; the mask marks the real tokens. With
 * `segments` (a cross-encoder's pairs, [CLS] A [SEP] B [SEP]), the tokens after the first
 * separator take the second segment's type, as the tokenizer's pair template says.
 */
export function padBatch(sequences: readonly (readonly number[])[], padId: number, segments?: Segments): PaddedBatch {
  const batchSize = sequences.length;
  const sequenceLength = Math.max(...sequences.map((ids) => ids.length));
  const inputIds = new BigInt64Array(batchSize * sequenceLength).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(batchSize * sequenceLength);
  const tokenTypeIds = new BigInt64Array(batchSize * sequenceLength);
  sequences.forEach((ids, row) => {
    const offset = row * sequenceLength;
    ids.forEach((id, column) => {
      inputIds[offset + column] = BigInt(id);
      attentionMask[offset + column] = 1n;
    });
    if (!segments?.secondTypeId) return;
    const separator = ids.indexOf(segments.separatorId, 1);
    if (separator >= 0) tokenTypeIds.fill(BigInt(segments.secondTypeId), offset + separator + 1, offset + ids.length);
  });
  return { batchSize, sequenceLength, inputIds, attentionMask, tokenTypeIds };
}

/**
 * One vector per row of `hidden` ([batchSize, sequenceLength, hiddenSize], row-major).
 * `mean` averages the hidden states of the tokens the mask keeps (sentence-transformers'
 * mean pooling: padding never dilutes the average); `cls` takes the first token's state (BGE).
 * Sums run in float64, so a 256-token average loses nothing to float32 accumulation.
 */
export function poolHiddenStates(
  hidden: Float32Array,
  batch: Pick<PaddedBatch, 'batchSize' | 'sequenceLength' | 'attentionMask'>,
  hiddenSize: number,
  pooling: Pooling,
): Float32Array[] {
  const { batchSize, sequenceLength, attentionMask } = batch;
  if (hidden.length !== batchSize * sequenceLength * hiddenSize) {
    throw new Error(`hidden states hold ${hidden.length} values, expected ${batchSize}×${sequenceLength}×${hiddenSize}`);
  }
  const vectors: Float32Array[] = [];
  for (let row = 0; row < batchSize; row++) {
    const rowOffset = row * sequenceLength * hiddenSize;
    if (pooling === 'cls') {
      vectors.push(hidden.slice(rowOffset, rowOffset + hiddenSize));
      continue;
    }
    const sum = new Float64Array(hiddenSize);
    let count = 0;
    for (let position = 0; position < sequenceLength; position++) {
      if (attentionMask[row * sequenceLength + position] === 0n) continue;
      count++;
      const tokenOffset = rowOffset + position * hiddenSize;
      for (let component = 0; component < hiddenSize; component++) sum[component] += hidden[tokenOffset + component];
    }
    // sentence-transformers clamps the token count at 1e-9; a row always has [CLS], so count ≥ 1
    // in practice, and the clamp only keeps an all-padding row at zero instead of NaN.
    const divisor = Math.max(count, 1e-9);
    vectors.push(Float32Array.from(sum, (value) => value / divisor));
  }
  return vectors;
}

/** Scales to unit L2 length; a zero vector stays zero rather than becoming NaN. */
export function l2Normalize(vector: Float32Array): Float32Array {
  let squares = 0;
  for (const value of vector) squares += value * value;
  const norm = Math.sqrt(squares);
  if (norm === 0) return vector.slice();
  return Float32Array.from(vector, (value) => value / norm);
}
