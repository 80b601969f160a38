import { SluiceError, type ErrorKind } from '../../adapters/spec/index.js';
import { errorSecrets } from '../auth/secret-scrubber.js';
import { clipEchoedValues, clipParam } from './error-text.js';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface ErrorResponse {
  status: number;
  body: OpenAIErrorBody;
  headers: Record<string, string>;
}

/** One row per kind: a missing row fails the typecheck. */
const AS_OPENAI: Record<ErrorKind, { status: number; type: string; code: string | null }> = {
  'invalid-request': { status: 400, type: 'invalid_request_error', code: null },
  unprocessable: { status: 422, type: 'invalid_request_error', code: null },
  'payload-too-large': { status: 413, type: 'invalid_request_error', code: 'request_too_large' },
  unauthenticated: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  'model-not-allowed': { status: 403, type: 'permission_error', code: 'model_not_allowed' },
  'not-found': { status: 404, type: 'invalid_request_error', code: 'not_found' },
  'rate-limited': { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  'budget-exceeded': { status: 429, type: 'insufficient_quota', code: 'budget_exceeded' },
  'upstream-rejected': { status: 502, type: 'upstream_error', code: 'upstream_rejected' },
  'upstream-unavailable': { status: 503, type: 'upstream_error', code: 'upstream_unavailable' },
  timeout: { status: 504, type: 'timeout_error', code: 'upstream_timeout' },
  'all-candidates-failed': { status: 502, type: 'upstream_error', code: 'all_candidates_failed' },
  'client-closed': { status: 499, type: 'invalid_request_error', code: 'client_closed' },
  internal: { status: 500, type: 'server_error', code: 'internal_error' },
};

/** The only place that formats error JSON; the error middleware and the SSE encoder both call it. */
export function toErrorResponse(error: unknown): ErrorResponse {
  const sluiceError = error instanceof SluiceError ? error : new SluiceError('internal', 'internal server error');
  const effective = effectiveError(sluiceError);
  const row = AS_OPENAI[effective.kind];
  let status = row.status;
  // A caller's mistake reported by the vendor keeps the vendor's status (400, 404, 422).
  if (effective.kind === 'invalid-request' && effective.detail.upstreamStatus) status = effective.detail.upstreamStatus;
  const headers: Record<string, string> = {};
  const retryAfter = effective.detail.retryAfterSeconds;
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  else if (effective.kind === 'rate-limited' || effective.kind === 'budget-exceeded') headers['retry-after'] = '1';
  const message =
    sluiceError.kind === 'all-candidates-failed' && effective !== sluiceError
      ? `${sluiceError.message}: ${effective.message}`
      : sluiceError.message;
  return {
    status,
    headers,
    body: {
      error: {
        // Secrets out before clipping: a cut could leave a key's prefix too short to recognise.
        message: clipEchoedValues(errorSecrets.scrub(message)),
        type: row.type,
        param: effective.detail.param === undefined ? null : clipParam(errorSecrets.scrub(effective.detail.param)),
        code: effective.detail.code ?? row.code,
      },
    },
  };
}

/** The statuses the HTTP layer answers before any route runs; none of them is an error kind. */
export type ProtocolStatus = 400 | 408 | 413 | 431;

/**
 * A failure of the HTTP exchange itself — headers too large, broken chunked framing, a request
 * that did not arrive in time — in the same OpenAI shape as every other error, so a client
 * reading `error.message` is not handed an empty body (src/server/client-error.ts writes it).
 */
export function toProtocolErrorResponse(status: ProtocolStatus, message: string, code: string): ErrorResponse {
  return { status, headers: {}, body: { error: { message: clipEchoedValues(errorSecrets.scrub(message)), type: 'invalid_request_error', param: null, code } } };
}

/**
 * When every candidate failed, the client is told what the last one said: all rate-limited
 * → 429 with retry-after (so stock SDKs back off), a timeout → 504, otherwise 502.
 */
function effectiveError(error: SluiceError): SluiceError {
  if (error.kind !== 'all-candidates-failed') return error;
  const attempts = error.detail.attempts ?? [];
  const last = attempts[attempts.length - 1];
  if (!last) return error;
  const budget = attempts.find((attempt) => attempt.kind === 'budget-exceeded');
  if (budget && attempts.every((attempt) => attempt.kind === 'budget-exceeded' || attempt.kind === 'rate-limited')) return budget;
  if (attempts.every((attempt) => attempt.kind === 'rate-limited')) return last;
  if (last.kind === 'timeout' || last.kind === 'upstream-unavailable') return last;
  return error;
}
