import { SluiceError } from '../spec/index.js';

interface Waiter<Slot> {
  resolve(slot: Slot): void;
  reject(error: unknown): void;
  /** Detaches the abort listener once the waiter leaves the queue. */
  detach(): void;
}

/**
 * A fixed set of generation slots (llama.cpp context sequences) handed out one request at a
 * time, with a bounded FIFO queue in front of them.
 *
 * - A free slot goes straight to the caller; otherwise the caller waits in line.
 * - A released slot goes to the head of the line before anyone new can take it, so a burst
 *   cannot starve the request that has waited longest.
 * - With the line full, `acquire` fails at once with `rate-limited` and a retry-after
 *   estimated from how long recent requests held a slot.
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
    private readonly queueLimit: number,
    private readonly now: () => number = () => performance.now(),
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

  acquire(signal: AbortSignal): Promise<Slot> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (signal.aborted) return Promise.reject(signal.reason);
    const slot = this.free.shift();
    if (slot !== undefined) return Promise.resolve(this.hold(slot));
    if (this.queue.length >= this.queueLimit) {
      return Promise.reject(
        new SluiceError('rate-limited', `the local model is busy: ${this.busy} generating, ${this.queue.length} waiting`, {
          retryAfterSeconds: this.retryAfterSeconds(),
        }),
      );
    }
    return new Promise<Slot>((resolve, reject) => {
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        reject(signal.reason);
      };
      const waiter: Waiter<Slot> = {
        resolve,
        reject,
        detach: () => signal.removeEventListener('abort', onAbort),
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
    const heldMs = this.now() - since;
    // An exponential average follows the load without keeping a history.
    this.averageHoldMs = this.averageHoldMs === undefined ? heldMs : 0.8 * this.averageHoldMs + 0.2 * heldMs;
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

  /** Roughly when a place in line frees up: the line ahead drains `size` requests per average hold. */
  retryAfterSeconds(): number {
    const holdSeconds = (this.averageHoldMs ?? 1000) / 1000;
    const rounds = Math.max(1, this.queue.length / this.size);
    return Math.max(1, Math.ceil(holdSeconds * rounds));
  }

  private hold(slot: Slot): Slot {
    this.heldSince.set(slot, this.now());
    return slot;
  }
}
