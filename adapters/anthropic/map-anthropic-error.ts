import { kindForHttpStatus, retryAfterSeconds } from '../shared/http-failure.js';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { SluiceError } from '../spec/index.js';
import type { ErrorDetail, ErrorKind } from '../spec/index.js';

/** The `error` object of Anthropic's error bodies and of a mid-stream `event: error`. */
export interface AnthropicErrorBody {
  type?: string;
  message?: string;
}

/**
 * Kinds for Anthropic's `error.type`, used when no HTTP status tells (an `error` event arrives
 * inside a 200 stream). https://docs.anthropic.com/en/api/errors
 */
const KIND_BY_TYPE: Readonly<Record<string, ErrorKind>> = {
  invalid_request_error: 'invalid-request',
  request_too_large: 'payload-too-large',
  authentication_error: 'upstream-rejected',
  permission_error: 'upstream-rejected',
  billing_error: 'upstream-rejected',
  not_found_error: 'upstream-rejected',
  rate_limit_error: 'rate-limited',
  timeout_error: 'timeout',
  api_error: 'upstream-unavailable',
  overloaded_error: 'upstream-unavailable',
};

// Anthropic answers an empty balance with a 400 invalid_request_error: that is our account, not
// the caller's request, so the chain must move on.
const CREDIT_EXHAUSTED = /credit balance/i;
const PROMPT_TOO_LONG = /prompt is too long/i;

/**
 * Any failure of an Anthropic SDK call as a Sluice kind. The caller's own mistakes (400, 422)
 * are `invalid-request` with the vendor's message. A 401/403 means *our* key is wrong and a 404
 * means the configured model name is unknown (the pipeline already swapped in the upstream
 * name, so it is never the caller's spelling): both are `upstream-rejected`, and the next
 * candidate runs. A failure after the caller aborted is `client-closed`, whatever it looks like.
 */
export function mapAnthropicError(error: unknown, backendId: string, signal?: AbortSignal): SluiceError {
  if (error instanceof SluiceError) return error;
  if (error instanceof APIUserAbortError || signal?.aborted) {
    return new SluiceError('client-closed', 'request aborted by the client', { cause: error });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new SluiceError('timeout', `${backendId} timed out`, { cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new SluiceError('upstream-unavailable', `${backendId} unreachable: ${error.message}`, { cause: error });
  }
  if (error instanceof APIError) return fromApiError(error, backendId);
  // The SDK serialises the body inside the call: a stack overflow there is the request's own
  // nesting, never the vendor's fault, and must not send the same request to the next vendor.
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new SluiceError('invalid-request', `${backendId} could not encode the request: it is nested too deeply`, { cause: error });
  }
  // Not an SDK error: the response body broke off (socket reset, truncated chunked body) or
  // carried something unparseable. Either way the vendor did not deliver.
  const message = error instanceof Error ? error.message : String(error);
  return new SluiceError('upstream-unavailable', `${backendId} stream failed: ${message}`, { cause: error });
}

/** An `error` event read from the stream by hand (the SDK throws it as an APIError itself). */
export function fromErrorBody(body: AnthropicErrorBody, backendId: string): SluiceError {
  const message = body.message ?? body.type ?? 'unknown error';
  return new SluiceError(kindForType(body.type, message), `${backendId}: ${message}`, detailFor(message, {}));
}

function fromApiError(error: APIError, backendId: string): SluiceError {
  const body = (error.error as { error?: AnthropicErrorBody } | undefined)?.error;
  const message = error.apiMessage ?? body?.message ?? error.message;
  const type = error.type ?? body?.type ?? undefined;
  const kind = error.status === undefined ? kindForType(type, message) : kindForStatus(error.status, message);
  return new SluiceError(
    kind,
    `${backendId}: ${message}`,
    detailFor(message, {
      upstreamStatus: error.status,
      retryAfterSeconds: retryAfterSeconds(error.headers?.get('retry-after')),
      cause: error,
    }),
  );
}

function kindForStatus(status: number, message: string): ErrorKind {
  const kind = kindForHttpStatus(status);
  // Anthropic reports an empty credit balance as a 400: our account, not the caller's request.
  return kind === 'invalid-request' && CREDIT_EXHAUSTED.test(message) ? 'upstream-rejected' : kind;
}

function kindForType(type: string | undefined, message: string): ErrorKind {
  if (type === 'invalid_request_error' && CREDIT_EXHAUSTED.test(message)) return 'upstream-rejected';
  return (type && KIND_BY_TYPE[type]) || 'upstream-unavailable';
}

function detailFor(message: string, detail: ErrorDetail): ErrorDetail {
  const withCode = PROMPT_TOO_LONG.test(message) ? { ...detail, code: 'context_length_exceeded', param: 'messages' } : detail;
  return Object.fromEntries(Object.entries(withCode).filter(([, value]) => value !== undefined)) as ErrorDetail;
}
