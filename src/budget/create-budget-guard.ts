import { createClient } from 'redis';
import type { BudgetGuard, ThresholdCrossing } from './budget-guard.js';
import { MemoryBudgetGuard } from './memory-budget-guard.js';
import { RedisBudgetGuard } from './redis-budget-guard.js';

export interface BudgetGuardHandle {
  guard: BudgetGuard;
  /** The shared Redis connection, when there is one: rate limits use it too. */
  redis?: { sendCommand(args: string[]): Promise<unknown> };
  /** Resolves when the ledger can be used (Redis connected); rejects if it never will. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * With a Redis URL every gateway instance shares one ledger (the Lua scripts keep it exact);
 * without one the ledger lives in this process.
 */
export function createBudgetGuard(options: {
  redisUrl?: string;
  timeZone: string;
  thresholds: readonly number[];
  defaultHoldTtlSeconds: number;
  onThreshold: (crossing: ThresholdCrossing) => void;
  /** Connection trouble (the client reconnects by itself); an unlistened 'error' would kill the process. */
  onConnectionError: (error: Error) => void;
}): BudgetGuardHandle {
  const guardOptions = { timeZone: options.timeZone, thresholds: options.thresholds, onThreshold: options.onThreshold, defaultHoldTtlSeconds: options.defaultHoldTtlSeconds };
  if (!options.redisUrl) return { guard: new MemoryBudgetGuard(guardOptions), ready: Promise.resolve(), close: async () => {} };
  // While Redis is away, commands fail at once instead of queueing: a request must not hang on
  // the ledger (it is refused as unpayable) and the client keeps reconnecting in the background.
  const client = createClient({ url: options.redisUrl, disableOfflineQueue: true });
  client.on('error', options.onConnectionError);
  const ready = client.connect().then(() => undefined);
  ready.catch(() => {}); // reported through readiness
  return {
    guard: new RedisBudgetGuard(client, guardOptions),
    redis: client,
    ready,
    async close() {
      if (client.isReady) await client.quit();
      else if (client.isOpen) client.destroy(); // reconnecting: nothing to flush
    },
  };
}
