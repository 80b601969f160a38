import type { Request, Response } from 'express';
import type { Tenant } from '../auth/tenant.js';
import type { AnswerMeta } from '../pipeline/answer-meta.js';
import type { CallContext } from '../pipeline/chat-pipeline.js';

/** What one request carries through the middleware, kept on `response.locals`. */
export interface RequestState {
  requestId: string;
  startedAt: number;
  endpoint: string;
  tenant?: Tenant;
  meta?: AnswerMeta;
  /** What the caller sent, as text, for the inference log (which applies the privacy mode). */
  inputText?: string;
  error?: unknown;
  abort: AbortController;
}

export function stateOf(response: Response): RequestState {
  return response.locals.sluice as RequestState;
}

/**
 * The pipeline's view of the request. The socket's `close` before the answer finished becomes
 * an abort, so the vendor call or local generation stops with the client.
 */
export function callContext(request: Request, response: Response): CallContext {
  const state = stateOf(response);
  return { requestId: state.requestId, tenant: state.tenant!, signal: state.abort.signal };
}
