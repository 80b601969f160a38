import type { ChatCompletion, ChatRequest } from '../../adapters/spec/index.js';
import type { CheckOutcome, QualityCheck, QualityScorer, QualityVerdict } from './quality-scorer.js';
import { contextSupportCheck } from './context-support-check.js';
import { emptyCheck, repetitionCheck, truncationCheck } from './degenerate-checks.js';
import { formatCheck, jsonInstructionCheck } from './format-check.js';
import { labelCheck, lengthCheck, oneWordCheck, onlyNumberCheck, yesNoCheck } from './instruction-checks.js';
import { languageCheck } from './language-check.js';
import { refusalCheck } from './refusal-check.js';
import { relevanceCheck, type Embed } from './relevance-check.js';
import { plattProbability, type PlattCalibration } from './calibration.js';

/** A failed hard check leaves at most this: well under any escalation threshold worth having. */
export const HARD_CAP = 0.3;
/** A hard check scoring below this has failed (partial scores above it only lower the score). */
const HARD_FAIL_BELOW = 0.5;

export interface AnswerScorerOptions {
  /** Adds the relevance check; without it the scorer does no I/O and answers in microseconds. */
  embed?: Embed;
  /**
   * Maps the combined score to a probability of a correct answer (calibration.ts; config
   * `quality.calibration`). Without it the score is the checks' combination as it is.
   */
  calibration?: PlattCalibration;
}

/** Every check the request itself makes possible, in the order their reasons are listed. */
export function defaultChecks(options: AnswerScorerOptions = {}): QualityCheck[] {
  const checks = [emptyCheck, truncationCheck, repetitionCheck, refusalCheck, formatCheck, jsonInstructionCheck, onlyNumberCheck, oneWordCheck, yesNoCheck, labelCheck, lengthCheck, languageCheck, contextSupportCheck];
  return options.embed ? [...checks, relevanceCheck(options.embed)] : checks;
}

interface Judged {
  check: QualityCheck;
  score: number;
  reason: string;
}

/**
 * Scores a (local) answer from what the request asked for. Each applicable check takes away
 * `weight × (1 − its score)` of what is left, so one clear failure is felt however many other
 * checks pass (an average would dilute it), and a check with nothing to judge — `undefined` —
 * leaves the score exactly as it was. A failed hard check then caps the score at `HARD_CAP`.
 */
export class AnswerScorer implements QualityScorer {
  private readonly checks: readonly QualityCheck[];
  private readonly calibration?: PlattCalibration;

  constructor(checks: readonly QualityCheck[] = defaultChecks(), calibration?: PlattCalibration) {
    this.checks = checks;
    this.calibration = calibration;
  }

  async score(request: ChatRequest, answer: ChatCompletion): Promise<QualityVerdict> {
    const outcomes = this.checks.map((check) => runSafely(check, request, answer));
    // Only wait when some check is asynchronous (the embedder): the rest stays synchronous.
    const settled = outcomes.some(isPromise) ? await Promise.all(outcomes) : (outcomes as CheckOutcome[]);
    const judged = settled.flatMap((outcome, index) => judge(this.checks[index], outcome));
    const verdict = combine(judged);
    return this.calibration ? { ...verdict, score: roundScore(plattProbability(this.calibration, verdict.score)) } : verdict;
  }
}

export function createAnswerScorer(options: AnswerScorerOptions = {}): AnswerScorer {
  return new AnswerScorer(defaultChecks(options), options.calibration);
}

/** A check that throws has nothing to say: the scorer must never fail a request by itself. */
function runSafely(check: QualityCheck, request: ChatRequest, answer: ChatCompletion): CheckOutcome | Promise<CheckOutcome> {
  try {
    const outcome = check.run(request, answer);
    return isPromise(outcome) ? outcome.catch(() => undefined) : outcome;
  } catch {
    return undefined;
  }
}

function judge(check: QualityCheck, outcome: CheckOutcome): Judged[] {
  if (outcome === undefined) return [];
  const raw = typeof outcome === 'number' ? outcome : outcome.score;
  if (!Number.isFinite(raw)) return [];
  const score = Math.min(1, Math.max(0, raw));
  const reason = typeof outcome === 'object' && outcome.reason ? outcome.reason : check.name;
  return [{ check, score, reason }];
}

function combine(judged: readonly Judged[]): QualityVerdict {
  let score = 1;
  const reasons: string[] = [];
  let hardFailed = false;
  for (const { check, score: checkScore, reason } of judged) {
    const weight = Math.min(1, Math.max(0, check.weight));
    score *= 1 - weight * (1 - checkScore);
    if (checkScore < 1) reasons.push(reason);
    if (check.hard && checkScore < HARD_FAIL_BELOW) hardFailed = true;
  }
  if (hardFailed) score = Math.min(score, HARD_CAP);
  return { score: roundScore(score), reasons };
}

const roundScore = (score: number) => Math.round(score * 1000) / 1000;

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}
