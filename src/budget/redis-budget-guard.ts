import { createHash } from 'node:crypto';
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
import { ledgerTtlSeconds } from './budget-period.js';
import { RELEASE_SCRIPT, RESERVE_SCRIPT, SETTLE_SCRIPT, SNAPSHOT_SCRIPT } from './budget-lua.js';

/** What the guard needs from a connected node-redis client (`createClient(...)` after `connect()`). */
export interface BudgetRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
}

export interface RedisBudgetGuardOptions extends BudgetGuardOptions {
  /**
   * Prefix of every key. Keep one `{…}` hash tag in it so a Redis Cluster puts all budget keys in one
   * slot — a script may only touch keys of one slot. Default `{sluice-budget}`.
   */
  keyPrefix?: string;
}

/** How long a settled or released reservation's id is remembered, so a repeated call stays a no-op. */
const DONE_TTL_SECONDS = 86_400;

class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** EVALSHA, and EVAL (which also caches the script) when this Redis has not seen it yet or was restarted. */
  async run(client: BudgetRedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await client.sendCommand(['EVALSHA', this.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return client.sendCommand(['EVAL', this.source, ...tail]);
    }
  }
}

const scripts = {
  reserve: new LuaScript(RESERVE_SCRIPT),
  settle: new LuaScript(SETTLE_SCRIPT),
  release: new LuaScript(RELEASE_SCRIPT),
  snapshot: new LuaScript(SNAPSHOT_SCRIPT),
};

/**
 * The shared ledger: any number of gateway instances pointing at one Redis keep one exact account.
 * Hold expiry is judged by the calling instance's clock (`now`), so instances' clocks must agree to
 * well within a hold's TTL — NTP does.
 */
export class RedisBudgetGuard implements BudgetGuard {
  private readonly timeZone: string;
  private readonly thresholds: readonly number[];
  private readonly onThreshold: BudgetGuardOptions['onThreshold'];
  private readonly defaultTtlSeconds: number;
  private readonly now: () => number;
  private readonly keyPrefix: string;

  constructor(private readonly client: BudgetRedisClient, options: RedisBudgetGuardOptions = {}) {
    this.timeZone = options.timeZone ?? 'UTC';
    this.thresholds = validateThresholds(options.thresholds ?? []);
    this.onThreshold = options.onThreshold;
    this.defaultTtlSeconds = validateTtlSeconds(options.defaultHoldTtlSeconds ?? DEFAULT_HOLD_TTL_SECONDS);
    this.now = options.now ?? Date.now;
    this.keyPrefix = options.keyPrefix ?? '{sluice-budget}';
    resolveScopes([{ scope: 'global', capUsd: 0 }], 0, this.timeZone); // fail fast on a bad time zone
  }

  async reserve(scopes: readonly ScopeCap[], estimateUsd: number, options: ReserveOptions): Promise<ReserveOutcome> {
    const nowMs = this.now();
    const resolved = resolveScopes(scopes, nowMs, this.timeZone);
    const amountMicro = toMicroUsd(estimateUsd, 'estimate');
    const ttlSeconds = validateTtlSeconds(options.ttlSeconds ?? this.defaultTtlSeconds);
    const expiresAtMs = nowMs + Math.round(ttlSeconds * 1000);
    const id = newReservationId(options.requestId);
    const member = `${id}|${amountMicro}`;
    const resTtlSeconds = Math.ceil(ttlSeconds) + DONE_TTL_SECONDS;
    const reply = (await scripts.reserve.run(this.client, this.reservationKeys(id, resolved), [
      nowMs,
      amountMicro,
      expiresAtMs,
      member,
      resTtlSeconds,
      ...resolved.flatMap((scope) => [scope.capMicro, ledgerTtlSeconds(scope.period)]),
    ])) as number[];
    const [status, scopeIndex, spentMicro, heldMicro] = reply.map(Number);
    if (status === -1) throw new Error(`budget reservation id ${id} already in use`);
    if (status === 0) {
      const scope = resolved[scopeIndex - 1];
      const remainingMicro = Math.max(0, scope.capMicro - spentMicro - heldMicro);
      return { ok: false, refusal: { scope: scope.scope, periodKey: scope.periodKey, capUsd: scope.capUsd, remainingUsd: toUsd(remainingMicro) } };
    }
    return { ok: true, reservation: this.reservation(id, member, estimateUsd, amountMicro, resolved, expiresAtMs) };
  }

  async snapshot(scopes: readonly ScopeCap[]): Promise<ScopeSnapshot[]> {
    const nowMs = this.now();
    const resolved = resolveScopes(scopes, nowMs, this.timeZone);
    const keys = resolved.flatMap((scope) => [this.ledgerKey(scope), this.holdsKey(scope)]);
    const reply = ((await scripts.snapshot.run(this.client, keys, [nowMs])) as number[]).map(Number);
    return resolved.map((scope, index) => {
      const spentMicro = reply[2 * index];
      const heldMicro = reply[2 * index + 1];
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

  private reservation(id: string, member: string, estimateUsd: number, amountMicro: number, resolved: ResolvedScope[], expiresAtMs: number): Reservation {
    const keys = this.reservationKeys(id, resolved);
    return {
      id,
      estimateUsd,
      scopes: resolved.map(({ scope, periodKey }) => ({ scope, periodKey })),
      expiresAtMs,
      settle: async (actualUsd) => {
        const actualMicro = toMicroUsd(actualUsd, 'actual cost');
        const perScope = resolved.flatMap((scope) => [
          ledgerTtlSeconds(scope.period),
          ...this.thresholds.map((threshold) => thresholdLimitMicro(scope.capMicro, threshold) ?? -1),
        ]);
        const reply = ((await scripts.settle.run(this.client, keys, [
          actualMicro,
          member,
          amountMicro,
          DONE_TTL_SECONDS,
          this.thresholds.length,
          ...this.thresholds.map(String),
          ...perScope,
        ])) as number[]).map(Number);
        if (reply[0] !== 1) return false;
        const crossings: ThresholdCrossing[] = [];
        for (let index = 1; index < reply.length; index += 3) {
          const scope = resolved[reply[index] - 1];
          crossings.push({
            scope: scope.scope,
            periodKey: scope.periodKey,
            threshold: this.thresholds[reply[index + 1] - 1],
            capUsd: scope.capUsd,
            spentUsd: toUsd(reply[index + 2]),
            reservationId: id,
          });
        }
        for (const crossing of crossings) this.onThreshold?.(crossing);
        return true;
      },
      release: async () => Number(await scripts.release.run(this.client, keys, [member, amountMicro, DONE_TTL_SECONDS])) === 1,
    };
  }

  private reservationKeys(id: string, resolved: ResolvedScope[]): string[] {
    return [`${this.keyPrefix}:res:${id}`, ...resolved.flatMap((scope) => [this.ledgerKey(scope), this.holdsKey(scope)])];
  }

  // Period keys start with a digit and hold no colon, so "<period>:<scope>" never collides with
  // another scope's key, nor with the "holds:" and "res:" families.
  private ledgerKey(scope: ResolvedScope): string {
    return `${this.keyPrefix}:${scope.periodKey}:${scope.scope}`;
  }

  private holdsKey(scope: ResolvedScope): string {
    return `${this.keyPrefix}:holds:${scope.periodKey}:${scope.scope}`;
  }
}
