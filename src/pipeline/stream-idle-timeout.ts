import type { CallOptions } from '../../adapters/spec/index.js';
import { SluiceError } from '../../adapters/spec/index.js';

/**
 * A stream that sends nothing for the backend's whole timeout is stopped and fails as `timeout`.
 * The adapters' timeouts end at the answer's head (a vendor's stream may rightly last longer than
 * it), so without this a vendor that stalls mid-answer held the client, its hold and the log row
 * open for as long as the vendor kept the socket (found by test/faults/vendor-connection.test.ts).
 * Each wait for a chunk gets `call.timeoutMs`; when it runs out the call's signal is aborted, so the
 * adapter drops the connection, and the waiting `next()` rejects at once rather than when the
 * adapter notices.
 */
export function withIdleTimeout<T>(open: (call: CallOptions) => AsyncIterable<T>, call: CallOptions, backendId: string): AsyncIterator<T> {
  const idle = new AbortController();
  const iterator = open({ ...call, signal: AbortSignal.any([call.signal, idle.signal]) })[Symbol.asyncIterator]();
  const stalled = () => new SluiceError('timeout', `${backendId}: the stream sent nothing for ${call.timeoutMs} ms`);
  // One timer and one promise for the whole stream, not one per chunk: each wait re-arms the timer
  // (refresh), and it counts only while a `next()` is waiting, not while the client reads slowly.
  let isWaiting = false;
  let timer: NodeJS.Timeout | undefined;
  let stopWaiting!: (error: Error) => void;
  const silence = new Promise<never>((_, reject) => (stopWaiting = reject));
  silence.catch(() => undefined); // rejected only while a next() races it
  const onSilence = () => {
    if (!isWaiting) return;
    idle.abort();
    stopWaiting(stalled());
  };
  return {
    async next() {
      isWaiting = true;
      if (timer) timer.refresh();
      else timer = setTimeout(onSilence, call.timeoutMs).unref();
      try {
        const result = await Promise.race([iterator.next(), silence]);
        if (result.done) clearTimeout(timer);
        return result;
      } catch (error) {
        clearTimeout(timer);
        throw idle.signal.aborted && !call.signal.aborted ? stalled() : error;
      } finally {
        isWaiting = false;
      }
    },
    return: async (value?: unknown) => {
      clearTimeout(timer);
      return (await iterator.return?.(value)) ?? { done: true, value: undefined };
    },
  };
}
