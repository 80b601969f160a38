import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { kindForHttpStatus, retryAfterSeconds } from '../shared/http-failure.js';
import { SluiceError } from '../spec/index.js';

/**
 * An OpenAI-protocol failure as a Sluice kind (statuses per adapters/shared/http-failure.ts),
 * keeping the vendor's message, param and code so a caller's own mistake reads as it would
 * from the vendor itself.
 */
export function mapOpenAIError(error: unknown, backendId: string): SluiceError {
  if (error instanceof SluiceError) return error;
  if (error instanceof APIUserAbortError) return new SluiceError('client-closed', 'request aborted by the client');
  if (error instanceof APIConnectionTimeoutError) return new SluiceError('timeout', `${backendId} timed out`);
  if (error instanceof APIConnectionError) {
    return new SluiceError('upstream-unavailable', `${backendId} unreachable: ${error.message}`, { cause: error });
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const vendorMessage = messageOf(error);
    return new SluiceError(kindForHttpStatus(status), `${backendId}: ${vendorMessage}`, {
      upstreamStatus: status,
      param: error.param ?? undefined,
      code: typeof error.code === 'string' ? error.code : undefined,
      retryAfterSeconds: retryAfterSeconds(error.headers?.get('retry-after')),
      cause: error,
    });
  }
  if (isAbort(error)) return new SluiceError('client-closed', 'request aborted by the client');
  // The SDK serialises the body inside the call: a stack overflow there is the request's own
  // nesting, never the vendor's fault, and must not send the same request to the next vendor.
  if (isStackOverflow(error)) return new SluiceError('invalid-request', `${backendId} could not encode the request: it is nested too deeply`, { cause: error });
  return new SluiceError('upstream-unavailable', `${backendId}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

function messageOf(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : error.message;
}

function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'APIUserAbortError');
}
