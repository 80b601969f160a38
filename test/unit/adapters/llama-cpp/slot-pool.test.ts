import { describe, expect, it } from 'vitest';
import { SlotPool } from '../../../../adapters/llama-cpp/slot-pool.js';
import { SluiceError } from '../../../../adapters/spec/index.js';

const never = () => new AbortController().signal;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Whether a promise has settled by the time already-queued callbacks have run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('SlotPool', () => {
  it('hands out free slots at once, then makes callers wait', async () => {
    const pool = new SlotPool(['a', 'b'], 4);
    expect(await pool.acquire(never())).toBe('a');
    expect(await pool.acquire(never())).toBe('b');
    const third = pool.acquire(never());
    expect(await isSettled(third)).toBe(false);
    expect(pool.busy).toBe(2);
    expect(pool.waiting).toBe(1);
  });

  it('gives a released slot to the caller that has waited longest (FIFO)', async () => {
    const pool = new SlotPool(['only'], 8);
    const slot = await pool.acquire(never());
    const order: number[] = [];
    const waiters = [1, 2, 3].map((id) =>
      pool.acquire(never()).then((held) => {
        order.push(id);
        return held;
      }),
    );
    pool.release(slot);
    const first = await waiters[0];
    pool.release(first);
    const second = await waiters[1];
    pool.release(second);
    await waiters[2];
    expect(order).toEqual([1, 2, 3]);
  });

  it('does not let a newcomer take a released slot ahead of the line', async () => {
    const pool = new SlotPool(['only'], 8);
    const slot = await pool.acquire(never());
    const waiting = pool.acquire(never());
    pool.release(slot);
    const newcomer = pool.acquire(never());
    expect(await waiting).toBe('only');
    expect(await isSettled(newcomer)).toBe(false);
  });

  it('answers rate-limited with a retry-after once the line is full', async () => {
    const pool = new SlotPool(['only'], 1);
    await pool.acquire(never());
    void pool.acquire(never());
    const error = await rejection(pool.acquire(never()));
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).kind).toBe('rate-limited');
    expect((error as SluiceError).detail.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('with queue_limit 0 never queues', async () => {
    const pool = new SlotPool(['only'], 0);
    await pool.acquire(never());
    expect(((await rejection(pool.acquire(never()))) as SluiceError).kind).toBe('rate-limited');
  });

  it('estimates retry-after from how long slots were held and how long the line is', async () => {
    let nowMs = 0;
    const pool = new SlotPool(['a', 'b'], 10, () => nowMs);
    const a = await pool.acquire(never());
    nowMs = 4_000;
    pool.release(a); // held 4 s
    expect(pool.retryAfterSeconds()).toBe(4);
    await pool.acquire(never());
    await pool.acquire(never());
    for (let index = 0; index < 6; index += 1) void pool.acquire(never());
    expect(pool.retryAfterSeconds()).toBe(12); // 6 waiting / 2 slots = 3 rounds of 4 s
  });

  it('takes an aborted caller out of the line and rejects it with the signal reason', async () => {
    const pool = new SlotPool(['only'], 1);
    const slot = await pool.acquire(never());
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    const reason = new Error('client went away');
    controller.abort(reason);
    expect(await rejection(waiting)).toBe(reason);
    expect(pool.waiting).toBe(0);
    // Its place in line is free again, and the slot skips it.
    const next = pool.acquire(never());
    pool.release(slot);
    expect(await next).toBe('only');
  });

  it('rejects an already-aborted signal without queueing', async () => {
    const pool = new SlotPool(['only'], 1);
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    expect(await rejection(pool.acquire(controller.signal))).toEqual(new Error('gone'));
    expect(pool.busy).toBe(0);
  });

  it('on close rejects everyone waiting and every later caller', async () => {
    const pool = new SlotPool(['only'], 4);
    await pool.acquire(never());
    const waiting = pool.acquire(never());
    const shutdown = new SluiceError('upstream-unavailable', 'closing');
    pool.close(shutdown);
    expect(await rejection(waiting)).toBe(shutdown);
    expect(await rejection(pool.acquire(never()))).toBe(shutdown);
  });

  it('refuses to release a slot it did not hand out', () => {
    const pool = new SlotPool(['a'], 1);
    expect(() => pool.release('a')).toThrow(/not held/);
  });

  it('serves a fake generator: at most `size` run at once, everyone finishes', async () => {
    const pool = new SlotPool([0, 1], 16);
    let running = 0;
    let peak = 0;
    const generate = async (steps: number) => {
      const slot = await pool.acquire(never());
      running += 1;
      peak = Math.max(peak, running);
      try {
        for (let step = 0; step < steps; step += 1) await new Promise((resolve) => setImmediate(resolve));
        return slot;
      } finally {
        running -= 1;
        pool.release(slot);
      }
    };
    const results = await Promise.all(Array.from({ length: 10 }, (_, index) => generate(1 + (index % 3))));
    expect(results).toHaveLength(10);
    expect(peak).toBe(2);
    expect(pool.busy).toBe(0);
    expect(pool.waiting).toBe(0);
  });
});
