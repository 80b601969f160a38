/**
 * Requests per minute per tenant, as a sliding window of timestamps held in the process.
 * Returns the seconds to wait when the window is full.
 */
export class RateLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  take(tenantId: string, limitPerMinute: number): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    const windowStart = now - 60_000;
    const stamps = (this.windows.get(tenantId) ?? []).filter((stamp) => stamp > windowStart);
    if (stamps.length >= limitPerMinute) {
      this.windows.set(tenantId, stamps);
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((stamps[0] + 60_000 - now) / 1000)) };
    }
    stamps.push(now);
    this.windows.set(tenantId, stamps);
    return { allowed: true };
  }
}
