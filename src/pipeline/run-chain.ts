import { SluiceError } from '../../adapters/spec/index.js';
import type { QualityVerdict } from '../quality/quality-scorer.js';
import type { Candidate } from '../routing/candidates.js';
import { AttemptTimer, outcomeOfFailure, type Attempt, type AttemptAccount } from './attempt.js';

export interface ChainOptions<T> {
  signal: AbortSignal;
  /** The x-sluice-route of a candidate's answer. */
  routeOf(candidate: Candidate): string;
  /** What a candidate's answer cost and said, for the record of an answer that is escalated. */
  accountOf(value: T): AttemptAccount;
  /** Scores the answer of a `scoreBeforeServing` candidate; none: answers are served as they come. */
  judge?(value: T): Promise<QualityVerdict>;
  /** A judged answer scoring below this goes to the next candidate. */
  threshold?: number;
}

/** The candidate whose answer is to be served, still open: its attempt is recorded by the caller. */
export interface ChainSuccess<T> {
  candidate: Candidate;
  timer: AttemptTimer;
  value: T;
  quality?: QualityVerdict;
  /** Set when the answer was judged weak but nothing better came: its attempt is already recorded. */
  served?: Attempt;
}

export function toSluiceError(error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  return new SluiceError('internal', (error as Error)?.message ?? String(error), { cause: error });
}

interface Escalated<T> {
  candidate: Candidate;
  timer: AttemptTimer;
  value: T;
  attempt: Attempt;
  position: number;
}

/**
 * Tries each candidate until one answers, recording every attempt that does not serve into
 * `attempts`, in order, each with its own timing. Only failures that say nothing about the
 * request itself (unreachable, 5xx, 429, timeout, our key rejected) move on; a caller's mistake
 * or a client abort stops the chain at once. A judged answer below the threshold is escalated:
 * the next candidate runs, and if none does better the best escalated answer is served after all.
 */
export async function runChain<T>(
  chain: readonly Candidate[],
  run: (candidate: Candidate, timer: AttemptTimer) => Promise<T>,
  attempts: Attempt[],
  options: ChainOptions<T>,
): Promise<ChainSuccess<T>> {
  const escalated: Escalated<T>[] = [];
  const failures: SluiceError[] = [];
  let isBudgetShort = false;
  for (const [index, candidate] of chain.entries()) {
    if (options.signal.aborted) throw clientClosed();
    if (candidate.onlyIfBudgetExceeded && !isBudgetShort) continue;
    const timer = new AttemptTimer(candidate, options.routeOf(candidate));
    let value: T;
    try {
      value = await run(candidate, timer);
    } catch (error) {
      const failure = options.signal.aborted ? clientClosed() : toSluiceError(error);
      // A failed attempt's hold was released: nothing was charged for it.
      attempts.push(timer.finish(outcomeOfFailure(failure), { error: failure, costUsd: 0 }));
      failures.push(failure);
      isBudgetShort ||= failure.kind === 'budget-exceeded';
      if (!failure.isRetryable) throw failure;
      continue;
    }
    if (!candidate.scoreBeforeServing || !options.judge || !hasNext(chain, index, isBudgetShort)) {
      return { candidate, timer, value };
    }
    const quality = await options.judge(value);
    if (quality.score >= (options.threshold ?? 0)) return { candidate, timer, value, quality };
    const attempt = timer.finish('escalated', { ...options.accountOf(value), quality });
    escalated.push({ candidate, timer, value, attempt, position: attempts.length });
    attempts.push(attempt);
  }
  const best = escalated.reduce<Escalated<T> | undefined>((top, entry) => (top && top.attempt.quality!.score >= entry.attempt.quality!.score ? top : entry), undefined);
  if (best) {
    // Nothing better answered: the weak answer is served after all, and its attempt says so.
    const served = Object.freeze({ ...best.attempt, outcome: 'answered' as const });
    attempts[best.position] = served;
    return { candidate: best.candidate, timer: best.timer, value: best.value, quality: best.attempt.quality, served };
  }
  if (failures.length === 1) throw failures[0];
  throw new SluiceError('all-candidates-failed', `no candidate answered (tried ${attempts.map((attempt) => attempt.modelId).join(', ')})`, { attempts: failures });
}

/** What any failure is once the client has gone: whatever the adapter threw, nobody is waiting. */
export function clientClosed(): SluiceError {
  return new SluiceError('client-closed', 'the client closed the connection');
}

function hasNext(chain: readonly Candidate[], index: number, isBudgetShort: boolean): boolean {
  return chain.slice(index + 1).some((candidate) => !candidate.onlyIfBudgetExceeded || isBudgetShort);
}
