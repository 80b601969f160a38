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
  return {
    async next() {
      let timer: NodeJS.Timeout | undefined;
      const silence = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          idle.abort();
          reject(stalled());
        }, call.timeoutMs);
      });
      try {
        return await Promise.race([iterator.next(), silence]);
      } catch (error) {
        throw idle.signal.aborted && !call.signal.aborted ? stalled() : error;
      } finally {
        clearTimeout(timer);
      }
    },
    return: async (value?: unknown) => (await iterator.return?.(value)) ?? { done: true, value: undefined },
  };
}
