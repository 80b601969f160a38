import { SluiceError } from '../spec/index.js';

/** Time as the pool sees it; injected so tests move it by hand instead of sleeping. */
export interface PoolClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `callback` after `delayMs`; the returned function cancels it. */
  schedule(callback: () => void, delayMs: number): () => void;
}

export const systemClock: PoolClock = {
  now: () => performance.now(),
  schedule(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    // A waiter's deadline must not keep a closing process alive; the server holds it open.
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export interface SlotPoolLimits {
  /** Requests allowed to wait for a slot; more are refused at once. */
  queueLimit: number;
  /** Longest a request may wait for a slot, and the longest expected wait that is admitted. */
  maxWaitMs: number;
}

/**
 * Before any request has finished there is no measured generation time. Assume a slot is held
 * this long: DESIGN §7 measures a 300-token answer at ~10 s for the 1.5B model on 2 cores. It
 * errs high on purpose: during a cold-start burst it refuses early rather than admitting a line
 * that cannot drain within the maximum wait; the first finished request replaces it.
 */
export const INITIAL_HOLD_ESTIMATE_MS = 10_000;

/** Weight of the newest hold time in the moving average: recent load counts, one outlier does not. */
const HOLD_AVERAGE_WEIGHT = 0.2;

interface Waiter<Slot> {
  resolve(slot: Slot): void;
  reject(error: unknown): void;
  /** Detaches the abort listener and the deadline once the waiter leaves the queue. */
  detach(): void;
}

/**
 * A fixed set of generation slots (llama.cpp context sequences) handed out one request at a
 * time, with a FIFO queue in front of them bounded by length and by time.
 *
 * - A free slot goes straight to the caller; otherwise the caller may wait in line.
 * - A caller is admitted to the line only if its expected wait — its place in line × the
 *   average time a slot is held ÷ the number of slots — fits within `maxWaitMs`, and the line
 *   is shorter than `queueLimit`. Otherwise `acquire` fails at once with `rate-limited` and a
 *   retry-after of that expected wait: by then the requests ahead of it have been served.
 * - A caller still waiting `maxWaitMs` after it joined leaves the line with `rate-limited`,
 *   so nobody waits unanswered because an estimate was wrong.
 * - A released slot goes to the head of the line before anyone new can take it, so a burst
 *   cannot starve the request that has waited longest.
 * - Aborting the caller's signal takes it out of the line and rejects with the signal's reason.
 */
export class SlotPool<Slot> {
  private readonly free: Slot[];
  private readonly queue: Waiter<Slot>[] = [];
  private readonly heldSince = new Map<Slot, number>();
  private averageHoldMs: number | undefined;
  private closedWith: Error | undefined;

  constructor(
    slots: readonly Slot[],
    private readonly limits: SlotPoolLimits,
    private readonly clock: PoolClock = systemClock,
  ) {
    if (slots.length === 0) throw new Error('a slot pool needs at least one slot');
    this.free = [...slots];
  }

  get size(): number {
    return this.free.length + this.heldSince.size;
  }

  get busy(): number {
    return this.heldSince.size;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** The wait a request arriving now should expect before it gets a slot. */
  expectedWaitMs(): number {
    return this.free.length > 0 ? 0 : this.waitAtPositionMs(this.queue.length + 1);
  }

  /** Whole seconds after which a refused request may expect to be served (at least 1). */
  retryAfterSeconds(): number {
    return toRetryAfterSeconds(this.expectedWaitMs());
  }

  acquire(signal: AbortSignal): Promise<Slot> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (signal.aborted) return Promise.reject(signal.reason);
    const slot = this.free.shift();
    if (slot !== undefined) return Promise.resolve(this.hold(slot));
    const expectedMs = this.expectedWaitMs();
    if (this.queue.length >= this.limits.queueLimit) {
      return Promise.reject(this.busyError(`${this.queue.length} waiting, the most the line holds`, expectedMs));
    }
    if (expectedMs > this.limits.maxWaitMs) {
      return Promise.reject(
        this.busyError(`a new request would wait about ${Math.round(expectedMs)} ms, over the ${this.limits.maxWaitMs} ms allowed`, expectedMs),
      );
    }
    return new Promise<Slot>((resolve, reject) => {
      const leave = (error: unknown) => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        waiter.detach();
        reject(error);
      };
      const onAbort = () => leave(signal.reason);
      const cancelDeadline = this.clock.schedule(() => {
        const position = this.queue.indexOf(waiter) + 1;
        leave(this.busyError(`waited ${this.limits.maxWaitMs} ms for a slot without getting one`, this.waitAtPositionMs(position)));
      }, this.limits.maxWaitMs);
      const waiter: Waiter<Slot> = {
        resolve,
        reject,
        detach: () => {
          signal.removeEventListener('abort', onAbort);
          cancelDeadline();
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** Gives a slot back; it must be clean (no history) by now. */
  release(slot: Slot): void {
    const since = this.heldSince.get(slot);
    if (since === undefined) throw new Error('released a slot that was not held');
    this.heldSince.delete(slot);
    const heldMs = this.clock.now() - since;
    // An exponential average follows the load without keeping a history.
    this.averageHoldMs =
      this.averageHoldMs === undefined ? heldMs : (1 - HOLD_AVERAGE_WEIGHT) * this.averageHoldMs + HOLD_AVERAGE_WEIGHT * heldMs;
    const next = this.queue.shift();
    if (next) {
      next.detach();
      next.resolve(this.hold(slot));
    } else {
      this.free.push(slot);
    }
  }

  /** Rejects everyone waiting and every later `acquire` with `error`; held slots stay held. */
  close(error: Error): void {
    this.closedWith = error;
    for (const waiter of this.queue.splice(0)) {
      waiter.detach();
      waiter.reject(error);
    }
  }

  /** `position` requests (this one included) must start before this one does; `size` start per hold. */
  private waitAtPositionMs(position: number): number {
    const holdMs = this.averageHoldMs ?? INITIAL_HOLD_ESTIMATE_MS;
    return (position * holdMs) / this.size;
  }

  private busyError(why: string, expectedWaitMs: number): SluiceError {
    return new SluiceError('rate-limited', `the local model is busy: ${this.busy} generating; ${why}`, {
      retryAfterSeconds: toRetryAfterSeconds(expectedWaitMs),
    });
  }

  private hold(slot: Slot): Slot {
    this.heldSince.set(slot, this.clock.now());
    return slot;
  }
}

function toRetryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}
