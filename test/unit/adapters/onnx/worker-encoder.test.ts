import { describe, expect, it } from 'vitest';
import { WorkerEncoder, type WorkerEncoderOptions } from '../../../../adapters/onnx/worker-encoder.js';
import { SluiceError } from '../../../../adapters/spec/index.js';
import { CRASH, HANG, REFUSE } from './stand-in-triggers.js';

const standIn = (modelPath = 'model.onnx'): WorkerEncoderOptions => ({
  modelPath,
  settings: { threads: 1, spinThreads: false, pooling: 'mean', normalize: true },
  padId: 0,
  entry: new URL('./stand-in-onnx-worker.ts', import.meta.url),
});

const plain = (vectors: Float32Array[]) => vectors.map((vector) => [...vector]);
/** The stand-in puts its threadId first in every vector. */
const threadOf = (vectors: Float32Array[]) => vectors[0][0];

describe('WorkerEncoder', () => {
  it('starts once the worker has loaded, and gets one vector per sequence back, in order', async () => {
    const encoder = await WorkerEncoder.start(standIn());
    try {
      const vectors = await encoder.encode([[5, 6, 7], [8]]);
      const thread = threadOf(vectors);
      expect(plain(vectors)).toEqual([
        [thread, 5, 3],
        [thread, 8, 1],
      ]);
    } finally {
      await encoder.close();
    }
  });

  it('refuses to start with the load error the worker reported', async () => {
    await expect(WorkerEncoder.start(standIn('load-fails'))).rejects.toThrow('load-fails: not an ONNX model');
  });

  it('refuses to start with upstream-unavailable when the worker dies while loading', async () => {
    const failure = await WorkerEncoder.start(standIn('dies-loading')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SluiceError);
    expect(failure).toMatchObject({ kind: 'upstream-unavailable', message: expect.stringContaining('the stand-in died while loading') });
  });

  it('fails every batch in flight with upstream-unavailable when the worker crashes, and runs the next batch on a new one', async () => {
    const encoder = await WorkerEncoder.start(standIn());
    try {
      const before = threadOf(await encoder.encode([[1]]));
      const [crashed, queuedBehind] = await Promise.allSettled([encoder.encode([[CRASH]]), encoder.encode([[2]])]);
      for (const outcome of [crashed, queuedBehind]) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason;
        expect(reason).toBeInstanceOf(SluiceError);
        expect(reason).toMatchObject({ kind: 'upstream-unavailable', message: expect.stringContaining('the stand-in crashed mid-batch') });
      }
      const after = await encoder.encode([[3]]);
      expect(plain(after)[0].slice(1)).toEqual([3, 1]);
      expect(threadOf(after)).not.toBe(before);
    } finally {
      await encoder.close();
    }
  });

  it('fails only the run onnxruntime refused; the worker carries on', async () => {
    const encoder = await WorkerEncoder.start(standIn());
    try {
      const before = threadOf(await encoder.encode([[1]]));
      await expect(encoder.encode([[REFUSE]])).rejects.toThrow('onnxruntime refused the batch');
      expect(threadOf(await encoder.encode([[1]]))).toBe(before);
    } finally {
      await encoder.close();
    }
  });

  it('close() ends the worker: a batch still in it and every later one fail with upstream-unavailable', async () => {
    const encoder = await WorkerEncoder.start(standIn());
    const stuck = encoder.encode([[HANG]]);
    stuck.catch(() => undefined); // asserted below, after close() has settled it
    await encoder.close();
    await expect(stuck).rejects.toMatchObject({ kind: 'upstream-unavailable', message: 'the embedding model is shutting down' });
    await expect(encoder.encode([[1]])).rejects.toMatchObject({ kind: 'upstream-unavailable' });
  });
});
