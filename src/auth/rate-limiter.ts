/** Requests per minute per tenant: a sliding window of the last 60 seconds. */
export type RateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  take(tenantId: string, limitPerMinute: number): Promise<RateVerdict>;
}

const WINDOW_MS = 60_000;

/** One process: the window's timestamps in a Map. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  async take(tenantId: string, limitPerMinute: number): Promise<RateVerdict> {
    const now = this.now();
    const stamps = (this.windows.get(tenantId) ?? []).filter((stamp) => stamp > now - WINDOW_MS);
    this.windows.set(tenantId, stamps);
    if (stamps.length >= limitPerMinute) return { allowed: false, retryAfterSeconds: retryAfter(stamps[0], now) };
    stamps.push(now);
    return { allowed: true };
  }
}

/**
 * Every instance sharing one Redis shares each key's window: one Lua script trims the window,
 * counts it and, if there is room, records this request — atomically, so N instances cannot let
 * N × the limit through. Returns the age of the oldest entry when full.
 */
const TAKE_SCRIPT = `
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2])}
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return {1, 0}
`;

export class RedisRateLimiter implements RateLimiter {
  private sequence = 0;

  constructor(
    private readonly client: { sendCommand(args: string[]): Promise<unknown> },
    private readonly keyPrefix = '{sluice-rate}',
    private readonly now: () => number = Date.now,
  ) {}

  async take(tenantId: string, limitPerMinute: number): Promise<RateVerdict> {
    const now = this.now();
    const member = `${now}:${process.pid}:${this.sequence++}:${Math.random().toString(36).slice(2)}`;
    const [allowed, oldest] = (await this.client.sendCommand([
      'EVAL', TAKE_SCRIPT, '1', `${this.keyPrefix}:${tenantId}`, String(now), String(WINDOW_MS), String(limitPerMinute), member,
    ])) as [number, number];
    return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterSeconds: retryAfter(Number(oldest), now) };
  }
}

function retryAfter(oldestMs: number, now: number): number {
  return Math.max(1, Math.ceil((oldestMs + WINDOW_MS - now) / 1000));
}
