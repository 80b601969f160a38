import {
  DEFAULT_HOLD_TTL_SECONDS,
  type BudgetGuard,
  type BudgetGuardOptions,
  type ReserveOptions,
  type ReserveOutcome,
  type Reservation,
  type ScopeCap,
  type ScopeSnapshot,
  type ThresholdCrossing,
} from './budget-guard.js';
import {
  newReservationId,
  resolveScopes,
  thresholdLimitMicro,
  toMicroUsd,
  toUsd,
  usedFraction,
  validateThresholds,
  validateTtlSeconds,
  type ResolvedScope,
} from './budget-arguments.js';

interface Ledger {
  spentMicro: number;
  holds: Map<string, { amountMicro: number; expiresAtMs: number }>;
  reportedThresholds: Set<number>;
}

/**
 * One process, no Redis: the same semantics as the Redis guard. Every method does its reads and
 * writes without an `await` in between, so the event loop makes each one atomic.
 */
export class MemoryBudgetGuard implements BudgetGuard {
  private readonly ledgers = new Map<string, Ledger>();
  private readonly timeZone: string;
  private readonly thresholds: readonly number[];
  private readonly onThreshold: BudgetGuardOptions['onThreshold'];
  private readonly defaultTtlSeconds: number;
  private readonly now: () => number;

  constructor(options: BudgetGuardOptions = {}) {
    this.timeZone = options.timeZone ?? 'UTC';
    this.thresholds = validateThresholds(options.thresholds ?? []);
    this.onThreshold = options.onThreshold;
    this.defaultTtlSeconds = validateTtlSeconds(options.defaultHoldTtlSeconds ?? DEFAULT_HOLD_TTL_SECONDS);
    this.now = options.now ?? Date.now;
    resolveScopes([{ scope: 'global', capUsd: 0 }], 0, this.timeZone); // fail fast on a bad time zone
  }

  async reserve(scopes: readonly ScopeCap[], estimateUsd: number, options: ReserveOptions): Promise<ReserveOutcome> {
    const nowMs = this.now();
    const resolved = resolveScopes(scopes, nowMs, this.timeZone);
    const amountMicro = toMicroUsd(estimateUsd, 'estimate');
    const expiresAtMs = nowMs + Math.round(validateTtlSeconds(options.ttlSeconds ?? this.defaultTtlSeconds) * 1000);
    const ledgers = resolved.map((scope) => this.ledger(scope));
    for (const [index, ledger] of ledgers.entries()) {
      const heldMicro = this.liveHeldMicro(ledger, nowMs);
      const scope = resolved[index];
      if (ledger.spentMicro + heldMicro + amountMicro > scope.capMicro) {
        const remainingMicro = Math.max(0, scope.capMicro - ledger.spentMicro - heldMicro);
        return { ok: false, refusal: { scope: scope.scope, periodKey: scope.periodKey, capUsd: scope.capUsd, remainingUsd: toUsd(remainingMicro) } };
      }
    }
    const id = newReservationId(options.requestId);
    for (const ledger of ledgers) ledger.holds.set(id, { amountMicro, expiresAtMs });
    return { ok: true, reservation: this.reservation(id, estimateUsd, resolved, ledgers, expiresAtMs) };
  }

  async snapshot(scopes: readonly ScopeCap[]): Promise<ScopeSnapshot[]> {
    const nowMs = this.now();
    return resolveScopes(scopes, nowMs, this.timeZone).map((scope) => {
      const ledger = this.ledgers.get(ledgerKey(scope));
      const spentMicro = ledger?.spentMicro ?? 0;
      const heldMicro = ledger ? this.liveHeldMicro(ledger, nowMs) : 0;
      return {
        scope: scope.scope,
        period: scope.period,
        periodKey: scope.periodKey,
        capUsd: scope.capUsd,
        spentUsd: toUsd(spentMicro),
        heldUsd: toUsd(heldMicro),
        remainingUsd: toUsd(Math.max(0, scope.capMicro - spentMicro - heldMicro)),
        usedFraction: usedFraction(spentMicro, scope.capMicro),
      };
    });
  }

  private reservation(id: string, estimateUsd: number, resolved: ResolvedScope[], ledgers: Ledger[], expiresAtMs: number): Reservation {
    let isOpen = true;
    const close = () => {
      const wasOpen = isOpen;
      isOpen = false;
      for (const ledger of ledgers) ledger.holds.delete(id);
      return wasOpen;
    };
    return {
      id,
      estimateUsd,
      scopes: resolved.map(({ scope, periodKey }) => ({ scope, periodKey })),
      expiresAtMs,
      settle: async (actualUsd) => {
        const actualMicro = toMicroUsd(actualUsd, 'actual cost');
        if (!close()) return false;
        const crossings: ThresholdCrossing[] = [];
        for (const [index, ledger] of ledgers.entries()) {
          ledger.spentMicro += actualMicro;
          crossings.push(...this.newCrossings(resolved[index], ledger, id));
        }
        for (const crossing of crossings) this.onThreshold?.(crossing);
        return true;
      },
      release: async () => close(),
    };
  }

  private newCrossings(scope: ResolvedScope, ledger: Ledger, reservationId: string): ThresholdCrossing[] {
    const crossings: ThresholdCrossing[] = [];
    for (const threshold of this.thresholds) {
      const limitMicro = thresholdLimitMicro(scope.capMicro, threshold);
      if (limitMicro === undefined || ledger.spentMicro < limitMicro || ledger.reportedThresholds.has(threshold)) continue;
      ledger.reportedThresholds.add(threshold);
      crossings.push({ scope: scope.scope, periodKey: scope.periodKey, threshold, capUsd: scope.capUsd, spentUsd: toUsd(ledger.spentMicro), reservationId });
    }
    return crossings;
  }

  /** Drops expired holds (they stop counting) and sums the rest. */
  private liveHeldMicro(ledger: Ledger, nowMs: number): number {
    let heldMicro = 0;
    for (const [id, hold] of ledger.holds) {
      if (hold.expiresAtMs <= nowMs) ledger.holds.delete(id);
      else heldMicro += hold.amountMicro;
    }
    return heldMicro;
  }

  private ledger(scope: ResolvedScope): Ledger {
    const key = ledgerKey(scope);
    let ledger = this.ledgers.get(key);
    if (!ledger) {
      ledger = { spentMicro: 0, holds: new Map(), reportedThresholds: new Set() };
      this.ledgers.set(key, ledger);
    }
    return ledger;
  }
}

// The period key has no colon, so "<period>:<scope>" cannot collide for any scope id.
const ledgerKey = (scope: ResolvedScope) => `${scope.periodKey}:${scope.scope}`;
