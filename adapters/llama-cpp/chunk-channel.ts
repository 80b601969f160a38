/**
 * Turns pushes from generation callbacks into an async iterable the stream can yield from:
 * unbounded (an answer is at most a few thousand small chunks), single consumer, and ended
 * either cleanly or with the error that stopped the producer.
 */
export class ChunkChannel<T> implements AsyncIterable<T> {
  private readonly buffered: T[] = [];
  private wake: (() => void) | undefined;
  private isEnded = false;
  private failure: { error: unknown } | undefined;

  push(item: T): void {
    if (this.isEnded) return;
    this.buffered.push(item);
    this.notify();
  }

  end(): void {
    this.isEnded = true;
    this.notify();
  }

  fail(error: unknown): void {
    if (this.isEnded) return;
    this.failure = { error };
    this.end();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      if (this.buffered.length > 0) {
        yield this.buffered.shift()!;
        continue;
      }
      if (this.failure) throw this.failure.error;
      if (this.isEnded) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
