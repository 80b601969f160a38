import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { fromErrorBody, mapAnthropicError } from '../../../../adapters/anthropic/map-anthropic-error.js';
import { retryAfterSeconds } from '../../../../adapters/shared/http-failure.js';
import { SluiceError } from '../../../../adapters/spec/index.js';

/** What the SDK builds from a real error response. */
function apiError(status: number, type: string, message: string, headers: Record<string, string> = {}): APIError {
  const body = { type: 'error', error: { type, message } };
  return APIError.generate(status, body, undefined, new Headers({ 'request-id': 'req_011CSHoEeqs5C35K2UUqR7Fy', ...headers }));
}

describe('mapAnthropicError', () => {
  it.each([
    [400, 'invalid_request_error', 'max_tokens: Field required', 'invalid-request'],
    [400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API.', 'upstream-rejected'],
    [401, 'authentication_error', 'invalid x-api-key', 'upstream-rejected'],
    [402, 'billing_error', 'payment required', 'upstream-rejected'],
    [403, 'permission_error', 'Your API key does not have permission to use the specified resource.', 'upstream-rejected'],
    [404, 'not_found_error', 'model: claude-3-opus-20240229', 'upstream-rejected'],
    [408, 'timeout_error', 'Request timed out', 'timeout'],
    [413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.', 'payload-too-large'],
    [422, 'invalid_request_error', 'unprocessable', 'invalid-request'],
    [429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', 'rate-limited'],
    [500, 'api_error', 'Internal server error', 'upstream-unavailable'],
    [503, 'api_error', 'Service unavailable', 'upstream-unavailable'],
    [504, 'timeout_error', 'Gateway timeout', 'timeout'],
    [529, 'overloaded_error', 'Overloaded', 'upstream-unavailable'],
  ] as const)('%d %s → %s', (status, type, message, kind) => {
    const error = mapAnthropicError(apiError(status, type, message), 'claude');
    expect(error).toBeInstanceOf(SluiceError);
    expect(error.kind).toBe(kind);
    expect(error.message).toBe(`claude: ${message}`);
    expect(error.detail.upstreamStatus).toBe(status);
  });

  it('keeps the caller-fault kinds out of the chain and ours in it', () => {
    expect(mapAnthropicError(apiError(400, 'invalid_request_error', 'bad'), 'claude').isRetryable).toBe(false);
    expect(mapAnthropicError(apiError(401, 'authentication_error', 'bad key'), 'claude').isRetryable).toBe(true);
    expect(mapAnthropicError(apiError(404, 'not_found_error', 'model: x'), 'claude').isRetryable).toBe(true);
  });

  it('reads retry-after from a 429, in seconds or as a date', () => {
    expect(mapAnthropicError(apiError(429, 'rate_limit_error', 'slow down', { 'retry-after': '17' }), 'claude').detail.retryAfterSeconds).toBe(17);
    const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
    const fromDate = mapAnthropicError(apiError(429, 'rate_limit_error', 'slow down', { 'retry-after': inTwoMinutes }), 'claude');
    expect(fromDate.detail.retryAfterSeconds).toBeGreaterThanOrEqual(118);
    expect(fromDate.detail.retryAfterSeconds).toBeLessThanOrEqual(120);
    expect(retryAfterSeconds('soon')).toBeUndefined();
  });

  it('marks an over-long prompt with the OpenAI context_length_exceeded code', () => {
    const error = mapAnthropicError(apiError(400, 'invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum'), 'claude');
    expect(error.kind).toBe('invalid-request');
    expect(error.detail.code).toBe('context_length_exceeded');
  });

  it.each([
    [new APIUserAbortError(), 'client-closed'],
    [new APIConnectionTimeoutError(), 'timeout'],
    [new APIConnectionError({ message: 'Connection error.', cause: new Error('ECONNREFUSED') }), 'upstream-unavailable'],
    [new TypeError('terminated'), 'upstream-unavailable'],
  ] as const)('%s → %s', (error, kind) => {
    expect(mapAnthropicError(error, 'claude').kind).toBe(kind);
  });

  it('calls any failure after the caller aborted client-closed', () => {
    const controller = new AbortController();
    controller.abort();
    expect(mapAnthropicError(new TypeError('terminated'), 'claude', controller.signal).kind).toBe('client-closed');
  });

  it('maps an error event that the SDK raised mid-stream (no status) by its type', () => {
    const body = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    const fromStream = new APIError(undefined, body, undefined, new Headers(), 'overloaded_error');
    const error = mapAnthropicError(fromStream, 'claude');
    expect(error.kind).toBe('upstream-unavailable');
    expect(error.detail.upstreamStatus).toBeUndefined();
  });

  it.each([
    ['rate_limit_error', 'rate-limited'],
    ['invalid_request_error', 'invalid-request'],
    ['authentication_error', 'upstream-rejected'],
    ['api_error', 'upstream-unavailable'],
    ['something_new', 'upstream-unavailable'],
  ] as const)('error body type %s → %s', (type, kind) => {
    expect(fromErrorBody({ type, message: 'm' }, 'claude').kind).toBe(kind);
  });

  it('passes a SluiceError through unchanged', () => {
    const original = new SluiceError('timeout', 'already mapped');
    expect(mapAnthropicError(original, 'claude')).toBe(original);
  });
});
