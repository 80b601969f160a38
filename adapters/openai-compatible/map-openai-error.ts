import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { SluiceError, type ErrorKind } from '../spec/index.js';

/**
 * An OpenAI-protocol failure as a Sluice kind. The caller's own mistakes (400, 404 on a
 * path, 413, 422) pass through as `invalid-request` with the vendor's message and param;
 * a 401/403 means *our* key is wrong, so it is `upstream-rejected` and the chain moves on.
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
    return new SluiceError(kindForStatus(status), `${backendId}: ${vendorMessage}`, {
      upstreamStatus: status,
      param: error.param ?? undefined,
      code: typeof error.code === 'string' ? error.code : undefined,
      retryAfterSeconds: retryAfterSeconds(error.headers?.get('retry-after') ?? null),
      cause: error,
    });
  }
  if (isAbort(error)) return new SluiceError('client-closed', 'request aborted by the client');
  return new SluiceError('upstream-unavailable', `${backendId}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

export function kindForStatus(status: number): ErrorKind {
  if (status === 401 || status === 403) return 'upstream-rejected';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate-limited';
  if (status === 413) return 'payload-too-large';
  if (status === 504 || status === 524) return 'timeout';
  if (status >= 500) return 'upstream-unavailable';
  if (status === 404) return 'upstream-rejected'; // the backend does not know the model: try the next candidate
  return 'invalid-request';
}

export function retryAfterSeconds(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function messageOf(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : error.message;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'APIUserAbortError');
}
