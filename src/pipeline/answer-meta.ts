import type { SluiceError, Usage } from '../../adapters/spec/index.js';
import type { Tier } from '../config/schema.js';
import type { Candidate } from '../routing/candidates.js';
import type { ModelDirectory } from './candidate-plan.js';
import type { ChainSuccess } from './run-chain.js';

/** What the server needs to write the x-sluice-* headers and the log line. */
export interface AnswerMeta {
  route: string;
  modelId: string;
  backendId: string;
  tier?: Tier;
  routeReason?: string;
  costUsd?: number;
  isCostEstimated?: boolean;
  usage?: Usage;
  /** Time spent in the answering backend (for streams, until the last chunk): the rest is gateway overhead. */
  upstreamMs?: number;
  /** What the model said (text, or tool calls as JSON), for the inference log. */
  outputText?: string;
  failedAttempts: { modelId: string; error: SluiceError }[];
}

export function describeAnswer(
  directory: ModelDirectory,
  success: Pick<ChainSuccess<unknown>, 'candidate' | 'failures' | 'startedAt'>,
  plan: { tier?: Tier; routeReason?: string } = {},
): AnswerMeta {
  const candidate: Candidate = success.candidate;
  return {
    route: directory.adapter(candidate.backendId).location === 'local' ? 'local' : candidate.backendId,
    modelId: candidate.modelId,
    backendId: candidate.backendId,
    tier: plan.tier,
    // A free model that answered only because the paid ones did not fit the budget says so.
    routeReason: candidate.onlyIfBudgetExceeded ? 'budget' : plan.routeReason,
    upstreamMs: performance.now() - success.startedAt,
    failedAttempts: success.failures.map((failure) => ({ modelId: failure.candidate.modelId, error: failure.error })),
  };
}

export function callOptions(directory: ModelDirectory, candidate: Candidate, context: { requestId: string; signal: AbortSignal }) {
  return { requestId: context.requestId, signal: context.signal, timeoutMs: directory.backendTimeoutMs(candidate.backendId) };
}
