import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { l2Normalize, padBatch, poolHiddenStates } from '../../../../adapters/onnx/pooling.js';

/** hidden[row][position] = that token's state, flattened row-major as the ONNX output is. */
function flatten(rows: number[][][], sequenceLength: number, hiddenSize: number): Float32Array {
  const data = new Float32Array(rows.length * sequenceLength * hiddenSize);
  rows.forEach((tokens, row) => tokens.forEach((state, position) => data.set(state, (row * sequenceLength + position) * hiddenSize)));
  return data;
}

describe('padBatch', () => {
  it('right-pads to the longest sequence and masks only the real tokens', () => {
    const batch = padBatch([[101, 7, 102], [101, 102]], 0);
    expect(batch).toMatchObject({ batchSize: 2, sequenceLength: 3 });
    expect([...batch.inputIds]).toEqual([101n, 7n, 102n, 101n, 102n, 0n]);
    expect([...batch.attentionMask]).toEqual([1n, 1n, 1n, 1n, 1n, 0n]);
    expect([...batch.tokenTypeIds]).toEqual([0n, 0n, 0n, 0n, 0n, 0n]);
  });

  it('pads with the tokenizer pad id, not always 0', () => {
    expect([...padBatch([[0, 5], [0]], 1).inputIds]).toEqual([0n, 5n, 0n, 1n]);
  });
});

describe('poolHiddenStates', () => {
  it('mean pooling averages the unmasked tokens and ignores what padding holds', () => {
    const batch = padBatch([[1, 2, 3], [1, 2]], 0);
    // The padded position holds garbage on purpose: a run's padding rows are not zero.
    const hidden = flatten([[[1, 2], [3, 4], [5, 9]], [[2, 2], [4, 0], [1000, -1000]]], 3, 2);
    const [first, second] = poolHiddenStates(hidden, batch, 2, 'mean');
    expect([...first]).toEqual([3, 5]);
    expect([...second]).toEqual([3, 1]);
  });

  it('cls pooling takes the first token', () => {
    const batch = padBatch([[1, 2], [1]], 0);
    const hidden = flatten([[[7, 8], [1, 1]], [[-1, 0.5], [9, 9]]], 2, 2);
    expect(poolHiddenStates(hidden, batch, 2, 'cls').map((vector) => [...vector])).toEqual([[7, 8], [-1, 0.5]]);
  });

  it('refuses hidden states of the wrong size instead of reading past a row', () => {
    expect(() => poolHiddenStates(new Float32Array(5), padBatch([[1, 2]], 0), 2, 'mean')).toThrow(/expected 1×2×2/);
  });

  it('gives a sequence the same vector whatever it is padded to (property)', () => {
    const hiddenSize = 3;
    const state = fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: hiddenSize, maxLength: hiddenSize });
    fc.assert(
      fc.property(fc.array(state, { minLength: 1, maxLength: 6 }), fc.nat(5), (tokens, extra) => {
        const alone = poolHiddenStates(flatten([tokens], tokens.length, hiddenSize), padBatch([tokens.map(() => 1)], 0), hiddenSize, 'mean')[0];
        const longer = tokens.length + extra;
        const filler = Array.from({ length: longer }, () => [42, -42, 42]);
        const padded = poolHiddenStates(
          flatten([tokens, filler], longer, hiddenSize),
          padBatch([tokens.map(() => 1), filler.map(() => 1)], 0),
          hiddenSize,
          'mean',
        )[0];
        expect([...padded]).toEqual([...alone]);
      }),
    );
  });
});

describe('l2Normalize', () => {
  it('scales to unit length and keeps the direction', () => {
    const unit = l2Normalize(Float32Array.from([3, 4]));
    expect([...unit]).toEqual([Math.fround(0.6), Math.fround(0.8)]);
  });

  it('leaves a zero vector at zero rather than NaN', () => {
    expect([...l2Normalize(new Float32Array(4))]).toEqual([0, 0, 0, 0]);
  });

  it('gives unit length for any non-zero vector (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 384 }), (values) => {
        fc.pre(values.some((value) => Math.abs(value) > 1e-3));
        const unit = l2Normalize(Float32Array.from(values));
        expect(Math.hypot(...unit)).toBeCloseTo(1, 5);
      }),
    );
  });
});
