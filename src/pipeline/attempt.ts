import type { SluiceError, Usage } from '../../adapters/spec/index.js';
import type { Tier } from '../config/schema.js';
import type { QualityVerdict } from '../quality/quality-scorer.js';
import type { Candidate } from '../routing/candidates.js';

/**
 * What became of one candidate tried for one request:
 * - `answered`: its answer reached the client (for a stream: to the end);
 * - `failed`: it gave no usable answer (refused, unreachable, cut mid-stream);
 * - `escalated`: it answered, the answer scored below the threshold, and the next candidate ran;
 * - `abandoned`: the client went away while it ran;
 * - `cache-hit`: a cached answer was served instead of calling a model.
 */
export type AttemptOutcome = 'answered' | 'failed' | 'escalated' | 'abandoned' | 'cache-hit';

export type CacheStatus = 'miss' | 'exact' | 'semantic' | 'bypass';

/** What an attempt cost and produced. `undefined` means unknown, never zero. */
export interface AttemptAccount {
  usage?: Usage;
  /** What the ledger was settled with for this attempt (0 when its hold was released). */
  costUsd?: number;
  /** The cost rests on a local token count or a guessed duration, not on the backend's figures. */
  isCostEstimated?: boolean;
  /** What the model said (text, or tool calls as JSON), for the log and the quality checks. */
  outputText?: string;
  quality?: QualityVerdict;
  error?: SluiceError;
  /** A cache hit: the id (the producing request's) of the answer it served. */
  cacheEntryId?: string;
}

/** One candidate tried for one request. Made once, when the attempt has really finished; never changed. */
export interface Attempt extends Readonly<AttemptAccount> {
  readonly modelId: string;
  readonly backendId: string;
  /** `local`, the backend id of a vendor, or `cache`: the x-sluice-route value. */
  readonly route: string;
  readonly outcome: AttemptOutcome;
  /** Wall-clock start: the log row's created_at. */
  readonly startedAt: Date;
  /** From the start of this attempt to its first token (a stream's first chunk, or the whole answer). */
  readonly firstTokenMs?: number;
  /** From the start of this attempt to its end: its own time, not the request's. */
  readonly latencyMs: number;
  readonly isCostEstimated: boolean;
}

/**
 * A request's outcome: every attempt in the order they ran, and the one whose answer the client
 * received. The ledger's settle, the cost header or trailer, the metrics, the log rows and the
 * access log all read this one record, once, after the request has really finished.
 */
export interface RequestRecord {
  readonly requestId: string;
  /** What the caller sent, as text, for the log (which applies the privacy mode). */
  readonly inputText?: string;
  readonly tier?: Tier;
  readonly routeReason?: string;
  readonly cache: CacheStatus;
  readonly attempts: readonly Attempt[];
  readonly served?: Attempt;
  /** Why nothing was served, when nothing was. */
  readonly error?: SluiceError;
}

/** What the x-sluice-* headers say before an answer is finished (a stream's head). */
export interface AnswerHead {
  readonly route: string;
  readonly modelId: string;
  readonly tier?: Tier;
  readonly routeReason?: string;
  readonly cache: CacheStatus;
  /** Attempts that ran before the one answering: failures and escalations. */
  readonly before: readonly Attempt[];
  readonly quality?: QualityVerdict;
}

export function headOf(record: RequestRecord): AnswerHead | undefined {
  const served = record.served;
  if (!served) return undefined;
  return {
    route: served.route,
    modelId: served.modelId,
    tier: record.tier,
    routeReason: record.routeReason,
    cache: record.cache,
    before: record.attempts.slice(0, record.attempts.indexOf(served)),
    quality: served.quality,
  };
}

/** The clock of one attempt, from the moment its candidate is tried until `finish` makes the record. */
export class AttemptTimer {
  readonly startedAt = new Date();
  private readonly startMs = performance.now();
  private firstTokenAtMs: number | undefined;

  constructor(
    readonly candidate: Candidate,
    readonly route: string,
  ) {}

  /** Notes the first token; later calls change nothing. */
  markFirstToken(): void {
    this.firstTokenAtMs ??= performance.now();
  }

  /** Milliseconds since the attempt began. */
  elapsedMs(): number {
    return performance.now() - this.startMs;
  }

  finish(outcome: AttemptOutcome, account: AttemptAccount = {}): Attempt {
    const endMs = performance.now();
    return Object.freeze({
      modelId: this.candidate.modelId,
      backendId: this.candidate.backendId,
      route: this.route,
      outcome,
      startedAt: this.startedAt,
      firstTokenMs: this.firstTokenAtMs === undefined ? undefined : this.firstTokenAtMs - this.startMs,
      latencyMs: endMs - this.startMs,
      usage: account.usage,
      costUsd: account.costUsd,
      isCostEstimated: account.isCostEstimated ?? false,
      outputText: account.outputText,
      quality: account.quality,
      error: account.error,
    });
  }
}

/** The outcome a failure gives its attempt: a client that went away abandoned it. */
export function outcomeOfFailure(error: SluiceError): AttemptOutcome {
  return error.kind === 'client-closed' ? 'abandoned' : 'failed';
}
