import { describe, expect, it } from 'vitest';
import { INITIAL_HOLD_ESTIMATE_MS, SlotPool, type PoolClock, type SlotPoolLimits } from '../../../../adapters/llama-cpp/slot-pool.js';
import { SluiceError } from '../../../../adapters/spec/index.js';

const never = () => new AbortController().signal;

/** Time that moves only when the test says so; due callbacks run in deadline order. */
class ManualClock implements PoolClock {
  private nowMs = 0;
  private timers: { atMs: number; callback: () => void }[] = [];

  now(): number {
    return this.nowMs;
  }

  schedule(callback: () => void, delayMs: number): () => void {
    const timer = { atMs: this.nowMs + delayMs, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((other) => other !== timer);
    };
  }

  get pending(): number {
    return this.timers.length;
  }

  advance(byMs: number): void {
    const untilMs = this.nowMs + byMs;
    for (;;) {
      const due = this.timers.filter((timer) => timer.atMs <= untilMs).sort((a, b) => a.atMs - b.atMs)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.nowMs = due.atMs;
      due.callback();
    }
    this.nowMs = untilMs;
  }
}

/** Limits that leave time out of it, for the tests about order and length. */
const roomy = (queueLimit: number): SlotPoolLimits => ({ queueLimit, maxWaitMs: 3_600_000 });

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
    const pool = new SlotPool(['a', 'b'], roomy(4));
    expect(await pool.acquire(never())).toBe('a');
    expect(await pool.acquire(never())).toBe('b');
    const third = pool.acquire(never());
    expect(await isSettled(third)).toBe(false);
    expect(pool.busy).toBe(2);
    expect(pool.waiting).toBe(1);
  });

  it('gives a released slot to the caller that has waited longest (FIFO)', async () => {
    const pool = new SlotPool(['only'], roomy(8));
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
    const pool = new SlotPool(['only'], roomy(8));
    const slot = await pool.acquire(never());
    const waiting = pool.acquire(never());
    pool.release(slot);
    const newcomer = pool.acquire(never());
    expect(await waiting).toBe('only');
    expect(await isSettled(newcomer)).toBe(false);
  });

  it('answers rate-limited with a retry-after once the line is full', async () => {
    const pool = new SlotPool(['only'], roomy(1));
    await pool.acquire(never());
    void pool.acquire(never());
    const error = await rejection(pool.acquire(never()));
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).kind).toBe('rate-limited');
    expect((error as SluiceError).detail.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('with queue_limit 0 never queues', async () => {
    const pool = new SlotPool(['only'], roomy(0));
    await pool.acquire(never());
    expect(((await rejection(pool.acquire(never()))) as SluiceError).kind).toBe('rate-limited');
  });

  it('estimates the wait from how long slots were held, the place in line and the slot count', async () => {
    const clock = new ManualClock();
    const pool = new SlotPool(['a', 'b'], roomy(10), clock);
    expect(pool.expectedWaitMs()).toBe(0); // a slot is free
    const a = await pool.acquire(never());
    clock.advance(4_000);
    pool.release(a); // held 4 s
    await pool.acquire(never());
    await pool.acquire(never());
    expect(pool.expectedWaitMs()).toBe(2_000); // first in line: 1 × 4 s ÷ 2 slots
    for (let index = 0; index < 5; index += 1) void pool.acquire(never());
    expect(pool.expectedWaitMs()).toBe(12_000); // sixth in line: 6 × 4 s ÷ 2 slots
    expect(pool.retryAfterSeconds()).toBe(12);
  });

  it('follows recent hold times rather than the first one', async () => {
    const clock = new ManualClock();
    const pool = new SlotPool(['only'], roomy(10), clock);
    for (const heldMs of [10_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000]) {
      const slot = await pool.acquire(never());
      clock.advance(heldMs);
      pool.release(slot);
    }
    await pool.acquire(never());
    const estimateMs = pool.expectedWaitMs();
    expect(estimateMs).toBeGreaterThan(1_000);
    expect(estimateMs).toBeLessThan(2_500); // the 10 s outlier has mostly faded
  });

  it('assumes a conservative generation time before any request has finished', async () => {
    const pool = new SlotPool(['a', 'b'], roomy(10), new ManualClock());
    await pool.acquire(never());
    await pool.acquire(never());
    expect(pool.expectedWaitMs()).toBe(INITIAL_HOLD_ESTIMATE_MS / 2);
    expect(INITIAL_HOLD_ESTIMATE_MS).toBeGreaterThanOrEqual(5_000);
  });

  it('refuses at once, rate-limited with retry-after, a request whose expected wait exceeds the maximum', async () => {
    const clock = new ManualClock();
    const pool = new SlotPool(['only'], { queueLimit: 100, maxWaitMs: 5_000 }, clock);
    const slot = await pool.acquire(never());
    clock.advance(2_000);
    pool.release(slot); // generations take 2 s
    await pool.acquire(never());
    const admitted = [pool.acquire(never()), pool.acquire(never())]; // expected 2 s and 4 s
    const error = await rejection(pool.acquire(never())); // expected 6 s > 5 s
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).kind).toBe('rate-limited');
    expect((error as SluiceError).detail.retryAfterSeconds).toBe(6);
    expect((error as SluiceError).message).toMatch(/6000 ms, over the 5000 ms allowed/);
    expect(pool.waiting).toBe(2);
    expect(await Promise.all(admitted.map(isSettled))).toEqual([false, false]);
  });

  it('before any history admits only what the conservative estimate says drains within the maximum wait', async () => {
    const pool = new SlotPool(['only'], { queueLimit: 100, maxWaitMs: 1_500 }, new ManualClock());
    await pool.acquire(never());
    expect(((await rejection(pool.acquire(never()))) as SluiceError).kind).toBe('rate-limited');
    expect(pool.waiting).toBe(0);
  });

  it('takes a waiter out of the line at its deadline, rate-limited with retry-after, and serves the rest in order', async () => {
    const clock = new ManualClock();
    const pool = new SlotPool(['only'], { queueLimit: 10, maxWaitMs: 3_000 }, clock);
    const warm = await pool.acquire(never());
    clock.advance(1_000);
    pool.release(warm); // generations take 1 s
    const stuck = await pool.acquire(never()); // …but this one does not finish
    const first = pool.acquire(never());
    clock.advance(500);
    const second = pool.acquire(never());
    clock.advance(2_499);
    expect(await isSettled(first)).toBe(false); // 1 ms before its deadline
    clock.advance(1);
    const expired = await rejection(first);
    expect(expired).toBeInstanceOf(SluiceError);
    expect((expired as SluiceError).kind).toBe('rate-limited');
    expect((expired as SluiceError).detail.retryAfterSeconds).toBe(1); // it was first in line: 1 × 1 s ÷ 1 slot
    expect(pool.waiting).toBe(1);
    expect(await isSettled(second)).toBe(false);
    pool.release(stuck);
    expect(await second).toBe('only');
    expect(clock.pending).toBe(0); // the served waiter's deadline was cancelled
  });

  it('keeps FIFO order among waiters admitted under a time limit', async () => {
    const clock = new ManualClock();
    const pool = new SlotPool(['only'], { queueLimit: 10, maxWaitMs: 10_000 }, clock);
    const warm = await pool.acquire(never());
    clock.advance(1_000);
    pool.release(warm);
    let held = await pool.acquire(never());
    const order: number[] = [];
    const waiters = [1, 2, 3, 4].map((id) => pool.acquire(never()).then((slot) => (order.push(id), slot)));
    for (const waiter of waiters) {
      clock.advance(1_000);
      pool.release(held);
      held = await waiter;
    }
    expect(order).toEqual([1, 2, 3, 4]);
    expect(clock.pending).toBe(0);
  });

  it('takes an aborted caller out of the line and rejects it with the signal reason', async () => {
    const pool = new SlotPool(['only'], roomy(1));
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
    const pool = new SlotPool(['only'], roomy(1));
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    expect(await rejection(pool.acquire(controller.signal))).toEqual(new Error('gone'));
    expect(pool.busy).toBe(0);
  });

  it('on close rejects everyone waiting and every later caller', async () => {
    const pool = new SlotPool(['only'], roomy(4));
    await pool.acquire(never());
    const waiting = pool.acquire(never());
    const shutdown = new SluiceError('upstream-unavailable', 'closing');
    pool.close(shutdown);
    expect(await rejection(waiting)).toBe(shutdown);
    expect(await rejection(pool.acquire(never()))).toBe(shutdown);
  });

  it('refuses to release a slot it did not hand out', () => {
    const pool = new SlotPool(['a'], roomy(1));
    expect(() => pool.release('a')).toThrow(/not held/);
  });

  it('serves a fake generator: at most `size` run at once, everyone finishes', async () => {
    const pool = new SlotPool([0, 1], roomy(16));
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
