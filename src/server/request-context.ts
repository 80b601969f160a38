import type { Request, Response } from 'express';
import { SluiceError } from '../../adapters/spec/index.js';
import type { Tenant } from '../auth/tenant.js';
import type { RequestRecord } from '../pipeline/attempt.js';
import type { CacheDirective } from '../pipeline/cache-step.js';
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
export function callContext(request: Request, response: Response): CallContext {
  const state = stateOf(response);
  let deliver: ((record: RequestRecord) => void) | undefined;
  return {
    requestId: state.requestId,
    tenant: state.tenant!,
    signal: state.abort.signal,
    cacheDirective: cacheDirectiveOf(request),
    ...routingHintsOf(request),
    onStart: () => {
      state.record = new Promise((resolve) => (deliver = resolve));
    },
    onRecord: (record) => {
      state.finished = record;
      deliver?.(record);
    },
  };
}

/**
 * `x-sluice-cache: bypass` or `cache-control: no-store`: the cache is neither read nor written;
 * `cache-control: no-cache`: a fresh answer is fetched (and kept for the next caller), as HTTP
 * caches read the two.
 */
function cacheDirectiveOf(request: Request): CacheDirective {
  if (request.headers['x-sluice-cache']?.toString().trim().toLowerCase() === 'bypass') return 'bypass';
  const control = request.headers['cache-control']?.toLowerCase() ?? '';
  if (/(?:^|,)\s*no-store\s*(?:,|$)/.test(control)) return 'bypass';
  if (/(?:^|,)\s*no-cache\s*(?:,|$)/.test(control)) return 'refresh';
  return 'use';
}

/** The caller's routing hints; a value that is not one is a 400 naming the header, never ignored. */
function routingHintsOf(request: Request): Pick<CallContext, 'routeHint' | 'maxCostUsd'> {
  const hints: Pick<CallContext, 'routeHint' | 'maxCostUsd'> = {};
  const hint = request.headers['x-sluice-route-hint']?.toString().trim().toLowerCase();
  if (hint !== undefined && hint !== '') {
    if (hint !== 'local' && hint !== 'vendor') throw new SluiceError('invalid-request', `x-sluice-route-hint must be "local" or "vendor", not "${hint.slice(0, 40)}"`, { param: 'x-sluice-route-hint' });
    hints.routeHint = hint;
  }
  const cap = request.headers['x-sluice-max-cost-usd']?.toString().trim();
  if (cap !== undefined && cap !== '') {
    const value = Number(cap);
    if (!/^\d+(?:\.\d+)?(?:e-?\d+)?$/i.test(cap) || !Number.isFinite(value)) throw new SluiceError('invalid-request', `x-sluice-max-cost-usd must be a number of dollars, like 0.01, not "${cap.slice(0, 40)}"`, { param: 'x-sluice-max-cost-usd' });
    hints.maxCostUsd = value;
  }
  return hints;
}
