import { SluiceError } from '../spec/index.js';

/** What an aborted call rejects with: the signal's reason when that is a SluiceError (a deadline), else `client-closed`. */
export function abortError(signal: AbortSignal): SluiceError {
  return signal.reason instanceof SluiceError ? signal.reason : new SluiceError('client-closed', 'the client closed the connection');
}

/** `work`'s result, or the abort, whichever comes first; work already handed to a worker finishes there unheard. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
