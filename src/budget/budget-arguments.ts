import { randomUUID } from 'node:crypto';
import { periodKey } from './budget-period.js';
import type { BudgetPeriod, BudgetScope, ScopeCap } from './budget-guard.js';

/** Integer micro-USD: the only unit either ledger stores. */
export const MICRO_PER_USD = 1_000_000;

export function toMicroUsd(usd: number, what: string): number {
  if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`${what} must be a finite, non-negative USD amount, got ${usd}`);
  const micro = Math.round(usd * MICRO_PER_USD);
  if (!Number.isSafeInteger(micro)) throw new RangeError(`${what} is too large: ${usd}`);
  return micro;
}

export const toUsd = (microUsd: number): number => microUsd / MICRO_PER_USD;

export interface ResolvedScope {
  scope: BudgetScope;
  period: BudgetPeriod;
  periodKey: string;
  capMicro: number;
  capUsd: number;
}

const SCOPE_PATTERN = /^(global|tenant:.+|model:.+)$/;

/** Validates caps and computes each scope's period key at `nowMs`; a scope may appear once per call. */
export function resolveScopes(scopes: readonly ScopeCap[], nowMs: number, timeZone: string): ResolvedScope[] {
  if (scopes.length === 0) throw new RangeError('a budget call needs at least one scope');
  const seen = new Set<string>();
  return scopes.map(({ scope, capUsd, period = 'month' }) => {
    if (!SCOPE_PATTERN.test(scope)) throw new RangeError(`unknown budget scope "${scope}"`);
    // The same scope and period twice would hold the estimate twice in one ledger; the same
    // scope over different periods (a daily cap beside the monthly one) are separate ledgers.
    if (seen.has(`${period}:${scope}`)) throw new RangeError(`budget scope "${scope}" given twice for one ${period}`);
    seen.add(`${period}:${scope}`);
    return { scope, period, periodKey: periodKey(period, nowMs, timeZone), capMicro: toMicroUsd(capUsd, `cap of ${scope}`), capUsd };
  });
}

export function newReservationId(requestId: string): string {
  return `${requestId}:${randomUUID()}`;
}

export function validateThresholds(thresholds: readonly number[]): readonly number[] {
  for (const threshold of thresholds) {
    if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`budget threshold must be in (0, 1], got ${threshold}`);
  }
  return [...new Set(thresholds)].sort((a, b) => a - b);
}

/** The spend (micro-USD) at which `threshold` of a cap is reached; undefined for a zero cap, which has no fractions. */
export function thresholdLimitMicro(capMicro: number, threshold: number): number | undefined {
  return capMicro > 0 ? Math.ceil(capMicro * threshold - 1e-9) : undefined;
}

export function validateTtlSeconds(ttlSeconds: number): number {
  if (!(Number.isFinite(ttlSeconds) && ttlSeconds > 0)) throw new RangeError(`hold ttlSeconds must be positive, got ${ttlSeconds}`);
  return ttlSeconds;
}

export function usedFraction(spentMicro: number, capMicro: number): number {
  return capMicro > 0 ? spentMicro / capMicro : 1;
}
