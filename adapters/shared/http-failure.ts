import type { ErrorKind } from '../spec/index.js';

/**
 * What a vendor's HTTP status says about a failure, for every HTTP backend. A 401/402/403 means
 * *our* key or account is wrong, and a 404 that our configured model name is stale: the chain
 * moves on. The caller's own mistakes (400, 422) are `invalid-request`.
 */
export function kindForHttpStatus(status: number): ErrorKind {
  if (status === 401 || status === 402 || status === 403 || status === 404) return 'upstream-rejected';
  if (status === 408 || status === 504 || status === 524) return 'timeout';
  if (status === 413) return 'payload-too-large';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'upstream-unavailable'; // Anthropic's 529 "overloaded" included
  return 'invalid-request';
}

/** `retry-after` as whole seconds: a number of seconds or an HTTP date. */
export function retryAfterSeconds(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
