import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../../../../adapters/onnx/micro-batcher.js';
import { SluiceError } from '../../../../adapters/spec/index.js';

/**
 * A runner that records each batch and answers when the test says so. Its vector for a sequence
 * is the sequence itself, so a result that reached the wrong caller, or the wrong slot, shows.
 */
function fakeRunner() {
  const batches: number[][][] = [];
  const pending: { resolve(): void; reject(error: Error): void }[] = [];
  let active = 0;
  let mostActive = 0;
  const waiters: { count: number; wake(): void }[] = [];
  const runner = (sequences: readonly (readonly number[])[]) => {
    batches.push(sequences.map((ids) => [...ids]));
    active++;
    mostActive = Math.max(mostActive, active);
    for (const waiter of waiters.filter((entry) => batches.length >= entry.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.wake();
    }
    return new Promise<Float32Array[]>((resolve, reject) => {
      pending.push({
        resolve: () => {
          active--;
          resolve(sequences.map((ids) => Float32Array.from(ids)));
        },
        reject: (error) => {
          active--;
          reject(error);
        },
      });
    });
  };
  return {
    runner,
    batches,
    get mostActive() {
      return mostActive;
    },
    /** Resolves once the runner has been called `count` times in all. */
    started(count: number): Promise<void> {
      if (batches.length >= count) return Promise.resolve();
      return new Promise((wake) => waiters.push({ count, wake }));
    },
    finishNext: () => pending.shift()!.resolve(),
    failNext: (error: Error) => pending.shift()!.reject(error),
  };
}

/** A runner that answers at once. */
const echo = async (sequences: readonly (readonly number[])[]) => sequences.map((ids) => Float32Array.from(ids));

const plain = (vectors: Float32Array[]) => vectors.map((vector) => [...vector]);

describe('MicroBatcher', () => {
  it('merges calls made within the window into one run and hands each caller its own vectors', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 32, windowMs: 5 });
    const calls = [batcher.embed([[1], [2, 2]]), batcher.embed([[3, 3, 3]]), batcher.embed([[4]])];
    await fake.started(1);
    fake.finishNext();
    expect((await Promise.all(calls)).map(plain)).toEqual([[[1], [2, 2]], [[3, 3, 3]], [[4]]]);
    expect(fake.batches).toHaveLength(1);
    expect(fake.batches[0]).toHaveLength(4);
  });

  it('runs at once when max_batch sequences wait, without waiting out the window', async () => {
    const fake = fakeRunner();
    // A window no test would sit through: only the max_batch rule can start this run.
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 3, windowMs: 60_000 });
    const calls = [batcher.embed([[1]]), batcher.embed([[2], [3]])];
    expect(fake.batches).toEqual([[[1], [2], [3]]]);
    fake.finishNext();
    expect((await Promise.all(calls)).map(plain)).toEqual([[[1]], [[2], [3]]]);
  });

  it('splits a call larger than max_batch into runs of at most max_batch, longest first, answers in input order', async () => {
    const runs: number[][] = [];
    const batcher = new MicroBatcher(async (sequences) => {
      runs.push(sequences.map((ids) => ids.length));
      return echo(sequences);
    }, { maxBatch: 4, windowMs: 0 });
    const sequences = Array.from({ length: 10 }, (_, index) => Array.from({ length: (index * 7) % 10 + 1 }, () => index));
    const vectors = await batcher.embed(sequences);
    expect(plain(vectors)).toEqual(sequences);
    expect(runs.map((run) => run.length)).toEqual([4, 4, 2]);
    // Sorted by length across the whole call: each run pads only to a similar length.
    expect(runs.flat()).toEqual(sequences.map((ids) => ids.length).sort((a, b) => b - a));
  });

  it('never runs two batches at once; calls made during a run share the next one', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 8, windowMs: 0 });
    const first = batcher.embed([[1]]);
    await fake.started(1);
    const later = [batcher.embed([[2]]), batcher.embed([[3]]), batcher.embed([[4]])];
    expect(batcher.pendingSequences).toBe(3);
    fake.finishNext();
    await fake.started(2);
    fake.finishNext();
    expect(plain(await first)).toEqual([[1]]);
    expect((await Promise.all(later)).map(plain)).toEqual([[[2]], [[3]], [[4]]]);
    expect(fake.batches).toEqual([[[1]], [[2], [3], [4]]]);
    expect(fake.mostActive).toBe(1);
  });

  it('puts a one-input call that arrives behind a big call into the very next run, not after the big call', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 4, windowMs: 0 });
    const big = batcher.embed(Array.from({ length: 12 }, (_, index) => [100 + index]));
    await fake.started(1);
    let isSmallDone = false;
    const small = batcher.embed([[7]]).then((vectors) => ((isSmallDone = true), vectors));
    fake.finishNext();
    await fake.started(2);
    // The second run: the big call's next slice of three, then the small call.
    expect(fake.batches[1]).toEqual([[104], [105], [106], [7]]);
    fake.finishNext();
    expect(plain(await small)).toEqual([[7]]);
    await fake.started(3);
    expect(isSmallDone).toBe(true);
    fake.finishNext();
    await fake.started(4);
    fake.finishNext();
    expect(plain(await big)).toEqual(Array.from({ length: 12 }, (_, index) => [100 + index]));
    expect(fake.batches.map((batch) => batch.length)).toEqual([4, 4, 4, 1]);
  });

  it('deals each run between the waiting calls one sequence at a time, in arrival order, each call’s slice together', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 4, windowMs: 0 });
    // A run in flight while the three calls queue, so that they wait together.
    const first = batcher.embed([[0]]);
    await fake.started(1);
    const calls = [batcher.embed([[1], [1], [1], [1], [1]]), batcher.embed([[2], [2], [2], [2], [2]]), batcher.embed([[3]])];
    for (let run = 1; run <= 4; run++) {
      await fake.started(run);
      fake.finishNext();
    }
    await Promise.all([first, ...calls]);
    expect(fake.batches).toEqual([
      [[0]],
      [[1], [1], [2], [3]],
      [[1], [1], [2], [2]],
      [[1], [2], [2]],
    ]);
  });

  it('with more single-input calls waiting than a run holds, serves the earliest first, none behind a big call', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 3, windowMs: 0 });
    const first = batcher.embed([[0]]);
    await fake.started(1);
    const big = batcher.embed(Array.from({ length: 9 }, () => [9]));
    const small = [1, 2, 3, 4, 5].map((id) => batcher.embed([[id]]));
    for (let run = 1; run <= 6; run++) {
      await fake.started(run);
      fake.finishNext();
    }
    await Promise.all([first, big, ...small]);
    expect(fake.batches).toEqual([
      [[0]],
      [[9], [1], [2]],
      [[9], [3], [4]],
      [[9], [9], [5]],
      [[9], [9], [9]],
      [[9], [9]],
    ]);
  });

  it('caps a run at max_batch_tokens padded tokens (sequences × the longest); one longer than that runs alone', async () => {
    const runs: number[][] = [];
    const batcher = new MicroBatcher(async (sequences) => {
      runs.push(sequences.map((ids) => ids.length));
      return echo(sequences);
    }, { maxBatch: 8, maxBatchTokens: 12, windowMs: 0 });
    const sequences = [...[4, 4, 4, 4], ...[2, 2, 2, 2, 2, 2], 20].map((length, index) => Array.from({ length }, () => index));
    expect(plain(await batcher.embed(sequences))).toEqual(sequences);
    expect(runs).toEqual([[20], [4, 4, 4], [4, 2, 2], [2, 2, 2, 2]]);
  });

  it('lets a long sequence that did not fit beside shorter ones lead the next run, never passed over', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 8, maxBatchTokens: 12, windowMs: 0 });
    const first = batcher.embed([[0]]);
    await fake.started(1);
    const short = batcher.embed(Array.from({ length: 10 }, () => [1, 1]));
    const long = batcher.embed([Array.from({ length: 10 }, () => 7)]);
    for (let run = 1; run <= 4; run++) {
      await fake.started(run);
      fake.finishNext();
    }
    await Promise.all([first, short, long]);
    expect(fake.batches.map((batch) => batch.map((ids) => ids[0]))).toEqual([[0], [1, 1, 1, 1, 1, 1], [7], [1, 1, 1, 1]]);
  });

  it('drops a call whose signal aborts before its batch runs, with client-closed, and runs the rest', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 8, windowMs: 5 });
    const controller = new AbortController();
    const dropped = batcher.embed([[9, 9]], controller.signal);
    const kept = batcher.embed([[1]]);
    controller.abort();
    await expect(dropped).rejects.toMatchObject({ kind: 'client-closed' });
    await fake.started(1);
    fake.finishNext();
    expect(plain(await kept)).toEqual([[1]]);
    expect(fake.batches).toEqual([[[1]]]);
    expect(batcher.pendingSequences).toBe(0);
  });

  it('rejects at once a call whose signal is already aborted, and never runs it', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 8, windowMs: 0 });
    await expect(batcher.embed([[1]], AbortSignal.abort())).rejects.toMatchObject({ kind: 'client-closed' });
    expect(fake.batches).toEqual([]);
  });

  it('rejects with the abort reason when it is a SluiceError (the adapter’s deadline)', async () => {
    const batcher = new MicroBatcher(fakeRunner().runner, { maxBatch: 8, windowMs: 60_000 });
    const deadline = new AbortController();
    const call = batcher.embed([[1]], deadline.signal);
    deadline.abort(new SluiceError('timeout', 'no embedding within 5 ms'));
    await expect(call).rejects.toMatchObject({ kind: 'timeout' });
    await batcher.close();
  });

  it('drops the unrun part of a split call that aborts between its runs', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 2, windowMs: 0 });
    const controller = new AbortController();
    const big = batcher.embed([[1], [2], [3], [4], [5]], controller.signal);
    await fake.started(1);
    controller.abort();
    await expect(big).rejects.toMatchObject({ kind: 'client-closed' });
    expect(batcher.pendingSequences).toBe(0);
    const next = batcher.embed([[7]]);
    fake.finishNext(); // the run already in flight ends; its vectors go nowhere
    await fake.started(2);
    fake.finishNext();
    expect(plain(await next)).toEqual([[7]]);
    expect(fake.batches).toHaveLength(2);
  });

  it('fails every call of a batch whose run fails, and serves the next batch', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 8, windowMs: 0 });
    const doomed = [batcher.embed([[1]]), batcher.embed([[2]])];
    await fake.started(1);
    const afterwards = batcher.embed([[3]]);
    fake.failNext(new Error('onnxruntime exploded'));
    for (const call of doomed) await expect(call).rejects.toThrow('onnxruntime exploded');
    await fake.started(2);
    fake.finishNext();
    expect(plain(await afterwards)).toEqual([[3]]);
  });

  it('close() rejects what is queued and waits for the run in flight', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 1, windowMs: 0 });
    const running = batcher.embed([[1]]);
    await fake.started(1);
    const queued = batcher.embed([[2]]);
    let closed = false;
    const closing = batcher.close().then(() => (closed = true));
    await expect(queued).rejects.toMatchObject({ kind: 'upstream-unavailable' });
    expect(closed).toBe(false);
    fake.finishNext();
    await closing;
    expect(plain(await running)).toEqual([[1]]);
    await expect(batcher.embed([[3]])).rejects.toMatchObject({ kind: 'upstream-unavailable' });
    expect(fake.batches).toHaveLength(1);
  });

  it('answers an empty call without a run', async () => {
    const fake = fakeRunner();
    const batcher = new MicroBatcher(fake.runner, { maxBatch: 8, windowMs: 0 });
    expect(await batcher.embed([])).toEqual([]);
    expect(fake.batches).toEqual([]);
  });
});
