/**
 * The budget guard: reserve before a paid call, settle (or release) after it.
 *
 * A request names every scope it spends against — usually `global`, its `tenant:<id>` and the
 * `model:<id>` it is about to call — each with its own cap and calendar period. `reserve` holds the
 * estimate in ALL of them atomically or in none, so N gateway instances sharing one ledger can never
 * overspend a cap by more than what is reserved and in flight (DESIGN §1 step 8, STYLE §9
 * "check-then-spend").
 *
 * Wiring sketch (pipeline):
 *
 *   const outcome = await guard.reserve(scopes, maxChatCostUsd(price, promptTokens, maxTokens), { requestId });
 *   if (!outcome.ok) throw new SluiceError('budget-exceeded', `${outcome.refusal.scope} budget exhausted`);
 *   let costUsd: number | undefined;
 *   try { const answer = await adapter.chat(...); costUsd = chatCostUsd(price, answer.usage); return answer; }
 *   finally { if (costUsd === undefined) await outcome.reservation.release(); else await outcome.reservation.settle(costUsd); }
 *
 * Amounts cross this interface as USD numbers; inside, both implementations keep integer micro-USD
 * (1 USD = 1_000_000), rounded to the nearest micro-dollar, so sums never drift.
 */

export type BudgetPeriod = 'day' | 'week' | 'month';

/** `global`, `tenant:<tenantId>` or `model:<modelId>`. */
export type BudgetScope = 'global' | `tenant:${string}` | `model:${string}`;

export interface ScopeCap {
  scope: BudgetScope;
  /** The most this scope may spend per period, in USD. 0 refuses every non-zero estimate. */
  capUsd: number;
  /** Calendar period in the guard's time zone; `month` when omitted. */
  period?: BudgetPeriod;
}

export interface ReserveOptions {
  /** The request this reservation belongs to; a random suffix makes the reservation id unique per attempt. */
  requestId: string;
  /** After this long an unsettled hold stops counting (the instance crashed). Default: the guard's `defaultHoldTtlSeconds`. */
  ttlSeconds?: number;
}

/** Why a reserve was refused: the first scope (in the order given) where spent + held + estimate > cap. */
export interface BudgetRefusal {
  scope: BudgetScope;
  periodKey: string;
  capUsd: number;
  /** cap − spent − held, never below 0: what this scope could still hold right now. */
  remainingUsd: number;
}

export type ReserveOutcome =
  | { ok: true; reservation: Reservation }
  | { ok: false; refusal: BudgetRefusal };

/**
 * A hold on every scope of one reserve call. Call exactly one of `settle` / `release`, from a
 * `finally`. Whichever runs first takes effect and resolves `true`; every later call (a second
 * settle, settle after release, release after settle) is a no-op that resolves `false` — decided
 * by the ledger (by reservation id), not by this object, so it holds across instances too.
 */
export interface Reservation {
  readonly id: string;
  readonly estimateUsd: number;
  /** The scopes held, each with the period key the hold (and later the charge) lives in. */
  readonly scopes: readonly { scope: BudgetScope; periodKey: string }[];
  /** Epoch ms (guard clock) after which the hold stops counting. */
  readonly expiresAtMs: number;
  /**
   * Drops the hold and charges `actualUsd` to every scope, in the period it was reserved in. The
   * actual cost is charged even when it exceeds the estimate, and even when the hold already
   * expired: money spent is spent. Thresholds crossed are reported through `onThreshold` before
   * this resolves.
   */
  settle(actualUsd: number): Promise<boolean>;
  /** Drops the hold; nothing is charged. */
  release(): Promise<boolean>;
}

export interface ScopeSnapshot {
  scope: BudgetScope;
  period: BudgetPeriod;
  periodKey: string;
  capUsd: number;
  spentUsd: number;
  /** Live (unexpired) holds. */
  heldUsd: number;
  /** cap − spent − held, never below 0. */
  remainingUsd: number;
  /** spent ÷ cap (can exceed 1 when settles ran over their estimates); 1 when the cap is 0. */
  usedFraction: number;
}

/** A soft threshold reached by a settle; reported once per scope and period. */
export interface ThresholdCrossing {
  scope: BudgetScope;
  periodKey: string;
  /** The configured fraction, e.g. 0.8. */
  threshold: number;
  capUsd: number;
  spentUsd: number;
  reservationId: string;
}

export interface BudgetGuard {
  /** Atomic across all `scopes`: holds `estimateUsd` in each only if every one fits, else refuses naming the first that does not. */
  reserve(scopes: readonly ScopeCap[], estimateUsd: number, options: ReserveOptions): Promise<ReserveOutcome>;
  /** Current state of each scope, in the order given, for the current period. */
  snapshot(scopes: readonly ScopeCap[]): Promise<ScopeSnapshot[]>;
}

export interface BudgetGuardOptions {
  /** IANA zone whose calendar defines day / week / month, e.g. `Europe/Berlin`. Default `UTC`. */
  timeZone?: string;
  /** Fractions of the cap, each reported once per scope and period when a settle reaches it. Default none. */
  thresholds?: readonly number[];
  /**
   * Called synchronously for each crossing, before `settle` resolves. Keep it cheap and non-throwing
   * (log, count, enqueue a webhook): if it throws, `settle` rejects with that error after the charge
   * was already recorded.
   */
  onThreshold?: (crossing: ThresholdCrossing) => void;
  /** Hold lifetime when `reserve` gives none. Default 600. */
  defaultHoldTtlSeconds?: number;
  /** Epoch ms; injectable so tests move time without sleeping. Default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_HOLD_TTL_SECONDS = 600;
