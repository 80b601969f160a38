import type { CallOptions } from '../spec/index.js';
import { SluiceError } from '../spec/index.js';

/**
 * One call's lifetime: a single signal that fires when the client goes away, when the call's
 * time is up (waiting in line included: a request stuck behind others may still be answered by
 * the next candidate), when the backend closes, or when the stream's consumer stops reading.
 * Whatever stopped the call, `toError` names it as the kind the pipeline expects.
 */
export interface CallScope {
  readonly signal: AbortSignal;
  /** The consumer stopped reading: stop generating. */
  stop(): void;
  toError(error: unknown): SluiceError;
  dispose(): void;
}

export function openCallScope(call: CallOptions, closing: AbortSignal, backendId: string): CallScope {
  const deadline = new AbortController();
  const consumer = new AbortController();
  const timer = setTimeout(() => deadline.abort(), call.timeoutMs);
  timer.unref();
  const signal = AbortSignal.any([call.signal, deadline.signal, closing, consumer.signal]);
  return {
    signal,
    stop: () => consumer.abort(),
    toError(error) {
      if (call.signal.aborted) return new SluiceError('client-closed', 'the client closed the connection');
      if (deadline.signal.aborted) return new SluiceError('timeout', `${backendId}: no answer within ${call.timeoutMs} ms`);
      if (closing.aborted) return new SluiceError('upstream-unavailable', `${backendId}: the local model is shutting down`);
      if (consumer.signal.aborted) return new SluiceError('client-closed', 'the stream was closed by its reader');
      if (error instanceof SluiceError) return error;
      return new SluiceError('upstream-unavailable', `${backendId}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    },
    dispose: () => clearTimeout(timer),
  };
}
