import type { Request, Response } from 'express';
import type { Tenant } from '../auth/tenant.js';
import type { RequestRecord } from '../pipeline/attempt.js';
import type { CallContext } from '../pipeline/request-run.js';

/** What one request carries through the middleware, kept on `response.locals`. */
export interface RequestState {
  requestId: string;
  startedAt: number;
  endpoint: string;
  tenant?: Tenant;
  error?: unknown;
  abort: AbortController;
  /**
   * Set when a pipeline takes the request: settles with its record once the request has really
   * finished (a stream: after the relay's settle), which the metrics, log rows and access log read.
   */
  record?: Promise<RequestRecord>;
  /** The record, once there: a stream's cost trailer reads it. */
  finished?: RequestRecord;
}

export function stateOf(response: Response): RequestState {
  return response.locals.sluice as RequestState;
}

/**
 * The pipeline's view of the request. The socket's `close` before the answer finished becomes
 * an abort, so the vendor call or local generation stops with the client.
 */
export function callContext(_request: Request, response: Response): CallContext {
  const state = stateOf(response);
  let deliver: ((record: RequestRecord) => void) | undefined;
  return {
    requestId: state.requestId,
    tenant: state.tenant!,
    signal: state.abort.signal,
    onStart: () => {
      state.record = new Promise((resolve) => (deliver = resolve));
    },
    onRecord: (record) => {
      state.finished = record;
      deliver?.(record);
    },
  };
}
