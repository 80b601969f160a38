import type { ScopeSnapshot } from './budget-guard.js';

/**
 * How close spend is to the cap, known without a ledger round trip on the request path: the
 * largest (spent + held) ÷ cap of the global scopes, refreshed in the background (an interval, and
 * whenever a soft threshold is crossed). Routing reads it synchronously; a stale value is off by
 * at most one refresh interval, and the cap itself is still enforced by the reservation.
 */
export class BudgetPressure {
  private fraction = 0;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly readScopes: () => Promise<readonly ScopeSnapshot[]>,
    private readonly onError: (error: Error) => void = () => {},
  ) {}

  /** 0 with nothing spent; 1 or more at the cap. */
  get usedFraction(): number {
    return this.fraction;
  }

  /** Refreshes every `intervalMs` until `stop` (after which it does not start); the timer does not keep the process up. */
  start(intervalMs: number): this {
    if (this.stopped || this.timer) return this;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** One read of the ledger; concurrent callers share it. A ledger that cannot be read keeps the last value. */
  refresh(): Promise<void> {
    this.refreshing ??= this.readScopes()
      .then((scopes) => {
        this.fraction = Math.max(0, ...scopes.map(pressureOf));
      })
      .catch((error: Error) => this.onError(error))
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }
}

function pressureOf(scope: ScopeSnapshot): number {
  if (scope.capUsd <= 0) return 1;
  return (scope.spentUsd + scope.heldUsd) / scope.capUsd;
}
