/**
 * The Redis budget guard against a real redis-server (never a mock: STYLE §9). The shared
 * behavioural cases run here unchanged, then what only a shared ledger can show: many clients.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScopeCap } from '../../src/budget/budget-guard.js';
import { RedisBudgetGuard } from '../../src/budget/redis-budget-guard.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { budgetGuardCases, testClock } from '../unit/budget/budget-guard-cases.js';

type Client = ReturnType<typeof createClient>;

let server: RedisServer;
let instanceA: Client;
let instanceB: Client;
let prefixCount = 0;
const freshPrefix = () => `{budget-test-${++prefixCount}}`;

beforeAll(async () => {
  server = await startRedisServer();
  instanceA = await createClient({ url: server.url }).connect();
  instanceB = await createClient({ url: server.url }).connect();
});

afterAll(async () => {
  await instanceA?.quit();
  await instanceB?.quit();
  await server?.stop();
});

budgetGuardCases('redis guard', async (options) => new RedisBudgetGuard(instanceA, { keyPrefix: freshPrefix(), ...options }), 25);

describe('redis guard: one ledger for many gateway instances', () => {
  it('accepts exactly the reserves that fit when 500 arrive at once over two connections', async () => {
    const keyPrefix = freshPrefix();
    const clock = testClock();
    const guards = [new RedisBudgetGuard(instanceA, { keyPrefix, now: clock.now }), new RedisBudgetGuard(instanceB, { keyPrefix, now: clock.now })];
    const caps: ScopeCap[] = [{ scope: 'global', capUsd: 100 }, { scope: 'tenant:acme', capUsd: 0.5 }];
    const outcomes = await Promise.all(
      Array.from({ length: 500 }, (_, index) => guards[index % 2].reserve(caps, 0.01, { requestId: `r${index}` })),
    );
    const accepted = outcomes.flatMap((outcome) => (outcome.ok ? [outcome.reservation] : []));
    expect(accepted).toHaveLength(50);
    for (const outcome of outcomes) if (!outcome.ok) expect(outcome.refusal).toMatchObject({ scope: 'tenant:acme', remainingUsd: 0 });
    expect(await Promise.all(accepted.map((reservation) => reservation.settle(reservation.estimateUsd)))).toEqual(accepted.map(() => true));
    const [global, tenant] = await guards[1].snapshot(caps);
    expect(tenant).toMatchObject({ spentUsd: 0.5, heldUsd: 0, remainingUsd: 0, usedFraction: 1 });
    expect(global).toMatchObject({ spentUsd: 0.5, heldUsd: 0 });
    // Stored as integer micro-dollars, never floats.
    expect(await instanceA.hGetAll(`${keyPrefix}:2026-11:tenant:acme`)).toEqual({ spent: '500000', held: '0' });
    expect(await instanceA.zCard(`${keyPrefix}:holds:2026-11:tenant:acme`)).toBe(0);
  });

  it('sees holds made through the other connection and settles them idempotently by id', async () => {
    const keyPrefix = freshPrefix();
    const guardA = new RedisBudgetGuard(instanceA, { keyPrefix });
    const guardB = new RedisBudgetGuard(instanceB, { keyPrefix });
    const caps: ScopeCap[] = [{ scope: 'tenant:t', capUsd: 1 }];
    const outcome = await guardA.reserve(caps, 0.75, { requestId: 'x' });
    expect(outcome.ok).toBe(true);
    expect((await guardB.snapshot(caps))[0].heldUsd).toBe(0.75);
    expect((await guardB.reserve(caps, 0.5, { requestId: 'y' })).ok).toBe(false);
    if (!outcome.ok) return;
    expect(await Promise.all([outcome.reservation.settle(0.6), outcome.reservation.settle(0.6)])).toEqual(expect.arrayContaining([true, false]));
    expect((await guardB.snapshot(caps))[0]).toMatchObject({ spentUsd: 0.6, heldUsd: 0 });
  });

  it('frees the room of an expired hold and still charges its late settle', async () => {
    const keyPrefix = freshPrefix();
    const clock = testClock();
    const guard = new RedisBudgetGuard(instanceB, { keyPrefix, now: clock.now });
    const caps: ScopeCap[] = [{ scope: 'global', capUsd: 1 }];
    const crashed = await guard.reserve(caps, 1, { requestId: 'crash', ttlSeconds: 30 });
    expect((await guard.reserve(caps, 0.5, { requestId: 'a' })).ok).toBe(false);
    clock.advance(30_000);
    const after = await guard.reserve(caps, 0.5, { requestId: 'b' });
    expect(after.ok).toBe(true);
    expect(await instanceB.hGet(`${keyPrefix}:2026-11:global`, 'held')).toBe('500000'); // the expired hold was dropped
    if (!crashed.ok) throw new Error('first reserve should fit');
    expect(await crashed.reservation.settle(0.8)).toBe(true);
    expect((await guard.snapshot(caps))[0]).toMatchObject({ spentUsd: 0.8, heldUsd: 0.5 });
  });

  it('holds nothing anywhere when one scope refuses', async () => {
    const keyPrefix = freshPrefix();
    const guard = new RedisBudgetGuard(instanceA, { keyPrefix });
    const caps: ScopeCap[] = [{ scope: 'global', capUsd: 10 }, { scope: 'tenant:full', capUsd: 0 }];
    expect(await guard.reserve(caps, 0.01, { requestId: 'r' })).toMatchObject({ ok: false, refusal: { scope: 'tenant:full' } });
    expect(await instanceA.exists(`${keyPrefix}:holds:2026-11:global`)).toBe(0);
    expect(await instanceA.keys(`${keyPrefix}:res:*`)).toEqual([]);
  });

  it('sets expiries on every key it writes', async () => {
    const keyPrefix = freshPrefix();
    const guard = new RedisBudgetGuard(instanceA, { keyPrefix });
    const outcome = await guard.reserve([{ scope: 'model:m', capUsd: 1, period: 'day' }], 0.1, { requestId: 'r', ttlSeconds: 60 });
    if (!outcome.ok) throw new Error('should fit');
    const keys = await instanceA.keys(`${keyPrefix}:*`);
    expect(keys).toHaveLength(3);
    for (const key of keys) expect(await instanceA.ttl(key)).toBeGreaterThan(60);
    await outcome.reservation.settle(0.1);
    for (const key of await instanceA.keys(`${keyPrefix}:*`)) expect(await instanceA.ttl(key)).toBeGreaterThan(0);
  });

  it('reloads its scripts after SCRIPT FLUSH (EVALSHA → NOSCRIPT → EVAL)', async () => {
    const guard = new RedisBudgetGuard(instanceA, { keyPrefix: freshPrefix() });
    const caps: ScopeCap[] = [{ scope: 'global', capUsd: 1 }];
    await instanceA.scriptFlush();
    const outcome = await guard.reserve(caps, 0.2, { requestId: 'r' });
    if (!outcome.ok) throw new Error('should fit');
    await instanceA.scriptFlush();
    expect(await outcome.reservation.settle(0.2)).toBe(true);
    expect((await guard.snapshot(caps))[0].spentUsd).toBe(0.2);
  });
});
