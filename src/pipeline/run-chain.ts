import { SluiceError } from '../../adapters/spec/index.js';
import type { Candidate } from '../routing/candidates.js';

export interface ChainSuccess<T> {
  candidate: Candidate;
  value: T;
  /** performance.now() when the answering attempt began: the upstream's share of the latency starts here. */
  startedAt: number;
  /** Failed attempts before the one that answered, in order. */
  failures: { candidate: Candidate; error: SluiceError }[];
}

export function toSluiceError(error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  return new SluiceError('internal', (error as Error)?.message ?? String(error), { cause: error });
}

/**
 * Tries each candidate until one answers. Only failures that say nothing about the request
 * itself (unreachable, 5xx, 429, timeout, our key rejected) move on; a caller's mistake or a
 * client abort stops the chain at once.
 */
export async function runChain<T>(
  chain: readonly Candidate[],
  attempt: (candidate: Candidate) => Promise<T>,
  signal: AbortSignal,
): Promise<ChainSuccess<T>> {
  const failures: ChainSuccess<T>['failures'] = [];
  for (const candidate of chain) {
    if (signal.aborted) throw new SluiceError('client-closed', 'the client closed the connection');
    if (candidate.onlyIfBudgetExceeded && !failures.some((failure) => failure.error.kind === 'budget-exceeded')) continue;
    const startedAt = performance.now();
    try {
      return { candidate, value: await attempt(candidate), failures, startedAt };
    } catch (error) {
      const failure = toSluiceError(error);
      failures.push({ candidate, error: failure });
      if (!failure.isRetryable) throw failure;
    }
  }
  if (failures.length === 1) throw failures[0].error;
  throw new SluiceError('all-candidates-failed', `no candidate answered (tried ${failures.map((f) => f.candidate.modelId).join(', ')})`, {
    attempts: failures.map((failure) => failure.error),
  });
}
