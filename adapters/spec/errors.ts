/**
 * The closed list of failures Sluice knows about. Every failure — a vendor's 429, a
 * malformed body, an exhausted chain — becomes one of these kinds, and the server maps
 * each kind to exactly one HTTP status and OpenAI error body (src/server/error-response.ts).
 */
export type ErrorKind =
  | 'invalid-request'
  | 'unprocessable'
  | 'payload-too-large'
  | 'unauthenticated'
  | 'model-not-allowed'
  | 'not-found'
  | 'rate-limited'
  | 'budget-exceeded'
  | 'upstream-rejected'
  | 'upstream-unavailable'
  | 'timeout'
  | 'all-candidates-failed'
  | 'client-closed'
  | 'internal';

export interface ErrorDetail {
  /** The request field at fault, in OpenAI's dotted form (`messages[0].role`). */
  param?: string;
  /** OpenAI `code` override (e.g. `model_not_found`, `context_length_exceeded`). */
  code?: string;
  retryAfterSeconds?: number;
  /** Status the upstream answered with, when the failure came from a vendor. */
  upstreamStatus?: number;
  /** The failed attempts of a fallback chain, in order. */
  attempts?: SluiceError[];
  cause?: unknown;
}

export class SluiceError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly detail: ErrorDetail = {},
  ) {
    super(message);
    this.name = 'SluiceError';
  }

  /** Whether the next candidate of a chain should be tried after this failure. */
  get isRetryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

const RETRYABLE: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'rate-limited',
  'budget-exceeded', // this candidate does not fit the budget; a cheaper or free one may
  'upstream-rejected',
  'upstream-unavailable',
  'timeout',
]);

export function isSluiceError(error: unknown): error is SluiceError {
  return error instanceof SluiceError;
}
