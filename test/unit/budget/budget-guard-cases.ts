/**
 * The behaviour every BudgetGuard must have, written once and run against each implementation
 * (memory here, Redis in test/integration/budget-redis.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BudgetGuard, BudgetGuardOptions, Reservation, ScopeCap, ThresholdCrossing } from '../../../src/budget/budget-guard.js';

export type GuardFactory = (options: BudgetGuardOptions) => Promise<BudgetGuard>;

/** Thursday 2026-11-26 12:00 UTC. */
export const START_MS = Date.UTC(2026, 10, 26, 12);

export function testClock(startMs = START_MS) {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms: number) => void (nowMs += ms), set: (ms: number) => void (nowMs = ms) };
}

const micro = (usd: number) => Math.round(usd * 1_000_000);

async function reserved(guard: BudgetGuard, scopes: ScopeCap[], estimateUsd: number, ttlSeconds?: number): Promise<Reservation> {
  const outcome = await guard.reserve(scopes, estimateUsd, { requestId: 'req', ttlSeconds });
  if (!outcome.ok) throw new Error(`expected ${estimateUsd} to fit, refused at ${outcome.refusal.scope}`);
  return outcome.reservation;
}

export function budgetGuardCases(name: string, makeGuard: GuardFactory, propertyRuns = 50): void {
  const setup = async (options: Partial<BudgetGuardOptions> = {}) => {
    const clock = testClock();
    const guard = await makeGuard({ now: clock.now, ...options });
    return { guard, clock };
  };
  const tenant: ScopeCap = { scope: 'tenant:acme', capUsd: 10 };
  const global: ScopeCap = { scope: 'global', capUsd: 100 };

  describe(`${name}: reserve, settle, release`, () => {
    it('holds an estimate, then swaps the hold for the actual cost on settle', async () => {
      const { guard } = await setup();
      const reservation = await reserved(guard, [global, tenant], 2.5);
      expect(reservation.scopes).toEqual([
        { scope: 'global', periodKey: '2026-11' },
        { scope: 'tenant:acme', periodKey: '2026-11' },
      ]);
      const [heldGlobal, heldTenant] = await guard.snapshot([global, tenant]);
      expect(heldGlobal).toMatchObject({ spentUsd: 0, heldUsd: 2.5, remainingUsd: 97.5, capUsd: 100, periodKey: '2026-11', period: 'month' });
      expect(heldTenant).toMatchObject({ spentUsd: 0, heldUsd: 2.5, remainingUsd: 7.5, usedFraction: 0 });
      expect(await reservation.settle(1.25)).toBe(true);
      const [, settledTenant] = await guard.snapshot([global, tenant]);
      expect(settledTenant).toMatchObject({ spentUsd: 1.25, heldUsd: 0, remainingUsd: 8.75, usedFraction: 0.125 });
    });

    it('accepts an estimate that exactly fills the cap and refuses one micro-dollar more, naming the scope', async () => {
      const { guard } = await setup();
      await reserved(guard, [tenant], 4);
      const refused = await guard.reserve([global, tenant], 6.000001, { requestId: 'over' });
      expect(refused).toEqual({ ok: false, refusal: { scope: 'tenant:acme', periodKey: '2026-11', capUsd: 10, remainingUsd: 6 } });
      expect((await guard.reserve([global, tenant], 6, { requestId: 'fits' })).ok).toBe(true);
      expect((await guard.snapshot([tenant]))[0].remainingUsd).toBe(0);
    });

    it('is all-or-nothing across scopes: a full tenant leaves the global scope unheld', async () => {
      const { guard } = await setup();
      const fullTenant = await reserved(guard, [tenant], 10);
      await fullTenant.settle(10);
      const model: ScopeCap = { scope: 'model:gpt-4o', capUsd: 50 };
      const refused = await guard.reserve([global, model, tenant], 1, { requestId: 'r' });
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.refusal).toMatchObject({ scope: 'tenant:acme', remainingUsd: 0 });
      const [globalNow, modelNow] = await guard.snapshot([global, model]);
      expect(globalNow).toMatchObject({ heldUsd: 0, spentUsd: 0 });
      expect(modelNow).toMatchObject({ heldUsd: 0, spentUsd: 0 });
    });

    it('charges the actual cost even when it exceeds the estimate and the cap', async () => {
      const { guard } = await setup();
      const reservation = await reserved(guard, [tenant], 1);
      expect(await reservation.settle(12)).toBe(true);
      expect((await guard.snapshot([tenant]))[0]).toMatchObject({ spentUsd: 12, heldUsd: 0, remainingUsd: 0, usedFraction: 1.2 });
      expect((await guard.reserve([tenant], 0.01, { requestId: 'r' })).ok).toBe(false);
    });

    it('lets exactly one of settle / release take effect', async () => {
      const { guard } = await setup();
      const settled = await reserved(guard, [tenant], 2);
      expect(await settled.settle(1)).toBe(true);
      expect(await settled.settle(1)).toBe(false);
      expect(await settled.release()).toBe(false);
      const released = await reserved(guard, [tenant], 3);
      expect(await released.release()).toBe(true);
      expect(await released.release()).toBe(false);
      expect(await released.settle(3)).toBe(false);
      expect((await guard.snapshot([tenant]))[0]).toMatchObject({ spentUsd: 1, heldUsd: 0 });
    });

    it('decides concurrent double calls once', async () => {
      const { guard } = await setup();
      const reservation = await reserved(guard, [global, tenant], 2);
      const results = await Promise.all([reservation.settle(2), reservation.settle(2), reservation.release(), reservation.settle(2)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const spent = (await guard.snapshot([tenant]))[0].spentUsd;
      expect(spent).toBe(results[2] ? 0 : 2);
    });

    it('gives each reservation its own id, prefixed by the request id', async () => {
      const { guard } = await setup();
      const first = await reserved(guard, [tenant], 1);
      const second = await reserved(guard, [tenant], 1);
      expect(first.id).toMatch(/^req:/);
      expect(first.id).not.toBe(second.id);
      expect(await first.settle(1)).toBe(true);
      expect(await second.settle(1)).toBe(true);
    });

    it('rejects bad arguments before touching the ledger', async () => {
      const { guard } = await setup();
      await expect(guard.reserve([tenant], -1, { requestId: 'r' })).rejects.toThrow(RangeError);
      await expect(guard.reserve([tenant], Number.NaN, { requestId: 'r' })).rejects.toThrow(RangeError);
      await expect(guard.reserve([], 1, { requestId: 'r' })).rejects.toThrow(RangeError);
      await expect(guard.reserve([tenant, { ...tenant, capUsd: 5 }], 1, { requestId: 'r' })).rejects.toThrow(/twice/);
      await expect(guard.reserve([{ scope: 'team:x' as 'global', capUsd: 1 }], 1, { requestId: 'r' })).rejects.toThrow(/unknown budget scope/);
      const reservation = await reserved(guard, [tenant], 1);
      await expect(reservation.settle(-2)).rejects.toThrow(RangeError);
      expect(await reservation.settle(0.5)).toBe(true);
    });
  });

  describe(`${name}: hold TTL`, () => {
    it('settles, releases and expires a zero hold without error (a free model reserves nothing)', async () => {
      const { guard, clock } = await setup();
      expect(await (await reserved(guard, [tenant], 0)).settle(0)).toBe(true);
      expect(await (await reserved(guard, [tenant], 0)).release()).toBe(true);
      await reserved(guard, [tenant], 0, 1);
      clock.advance(1_000);
      expect((await guard.reserve([tenant], 10, { requestId: 'after' })).ok).toBe(true);
      expect((await guard.snapshot([tenant]))[0]).toMatchObject({ spentUsd: 0, heldUsd: 10 });
    });

    it('stops counting a hold after its TTL, freeing its room', async () => {
      const { guard, clock } = await setup();
      await reserved(guard, [tenant], 10, 30);
      expect((await guard.reserve([tenant], 1, { requestId: 'r' })).ok).toBe(false);
      clock.advance(29_999);
      expect((await guard.snapshot([tenant]))[0].heldUsd).toBe(10);
      clock.advance(1);
      expect((await guard.snapshot([tenant]))[0].heldUsd).toBe(0);
      expect((await guard.reserve([tenant], 10, { requestId: 'r' })).ok).toBe(true);
    });

    it('still charges a settle that arrives after the hold expired, once', async () => {
      const { guard, clock } = await setup();
      const late = await reserved(guard, [global, tenant], 4, 10);
      clock.advance(60_000);
      await reserved(guard, [tenant], 6); // the expired hold no longer blocks this
      expect(await late.settle(4)).toBe(true);
      expect(await late.settle(4)).toBe(false);
      expect((await guard.snapshot([global, tenant])).map((scope) => [scope.spentUsd, scope.heldUsd])).toEqual([
        [4, 0],
        [4, 6],
      ]);
    });

    it('uses the guard default TTL when reserve gives none', async () => {
      const { guard, clock } = await setup({ defaultHoldTtlSeconds: 5 });
      const reservation = await reserved(guard, [tenant], 10);
      expect(reservation.expiresAtMs).toBe(START_MS + 5_000);
      clock.advance(5_000);
      expect((await guard.snapshot([tenant]))[0].heldUsd).toBe(0);
    });
  });

  describe(`${name}: periods and thresholds`, () => {
    it('starts a fresh ledger when the period turns over on the configured zone’s calendar', async () => {
      const { guard, clock } = await setup({ timeZone: 'Pacific/Kiritimati' }); // UTC+14
      const daily: ScopeCap = { scope: 'tenant:acme', capUsd: 5, period: 'day' };
      expect((await guard.snapshot([daily]))[0].periodKey).toBe('2026-11-27');
      await (await reserved(guard, [daily], 5)).settle(5);
      expect((await guard.reserve([daily], 1, { requestId: 'r' })).ok).toBe(false);
      clock.set(Date.UTC(2026, 10, 27, 10)); // 00:00 on the 28th in Kiritimati
      expect((await guard.snapshot([daily]))[0]).toMatchObject({ periodKey: '2026-11-28', spentUsd: 0 });
      expect((await guard.reserve([daily], 5, { requestId: 'r' })).ok).toBe(true);
    });

    it('keeps separate ledgers per period kind and reports ISO week keys', async () => {
      const { guard } = await setup();
      const weekly: ScopeCap = { scope: 'global', capUsd: 1, period: 'week' };
      await (await reserved(guard, [weekly], 1)).settle(1);
      const [week, month] = await guard.snapshot([weekly, { scope: 'model:m', capUsd: 1 }]);
      expect(week).toMatchObject({ periodKey: '2026-W48', period: 'week', spentUsd: 1 });
      expect((await guard.snapshot([{ scope: 'global', capUsd: 1 }]))[0].spentUsd).toBe(0);
      expect(month.spentUsd).toBe(0);
    });

    it('settles into the period the hold was reserved in', async () => {
      const { guard, clock } = await setup();
      const daily: ScopeCap = { scope: 'global', capUsd: 5, period: 'day' };
      const reservation = await reserved(guard, [daily], 1);
      clock.set(Date.UTC(2026, 10, 27, 0, 0, 1));
      await reservation.settle(1);
      expect((await guard.snapshot([daily]))[0]).toMatchObject({ periodKey: '2026-11-27', spentUsd: 0 });
      clock.set(Date.UTC(2026, 10, 26, 23));
      expect((await guard.snapshot([daily]))[0]).toMatchObject({ periodKey: '2026-11-26', spentUsd: 1 });
    });

    it('reports each threshold a settle reaches once per scope and period', async () => {
      const crossings: ThresholdCrossing[] = [];
      const { guard, clock } = await setup({ thresholds: [0.8, 0.5, 0.95], onThreshold: (crossing) => crossings.push(crossing) });
      const caps: ScopeCap[] = [global, tenant];
      await (await reserved(guard, caps, 4)).settle(4);
      expect(crossings).toEqual([]);
      await (await reserved(guard, caps, 5)).settle(4.5); // tenant at 8.5 of 10: 0.5 and 0.8 at once
      expect(crossings.map(({ scope, threshold, spentUsd, capUsd }) => ({ scope, threshold, spentUsd, capUsd }))).toEqual([
        { scope: 'tenant:acme', threshold: 0.5, spentUsd: 8.5, capUsd: 10 },
        { scope: 'tenant:acme', threshold: 0.8, spentUsd: 8.5, capUsd: 10 },
      ]);
      await (await reserved(guard, caps, 0.1)).settle(0.1);
      expect(crossings).toHaveLength(2);
      const last = await reserved(guard, caps, 1);
      await last.settle(1); // 9.6 ≥ 9.5
      expect(crossings.slice(2)).toEqual([
        { scope: 'tenant:acme', periodKey: '2026-11', threshold: 0.95, capUsd: 10, spentUsd: 9.6, reservationId: last.id },
      ]);
      clock.set(Date.UTC(2026, 11, 1, 1));
      await (await reserved(guard, caps, 6)).settle(6);
      expect(crossings.slice(3).map(({ scope, periodKey, threshold }) => [scope, periodKey, threshold])).toEqual([['tenant:acme', '2026-12', 0.5]]);
    });
  });

  describe(`${name}: properties`, () => {
    const caps: ScopeCap[] = [
      { scope: 'global', capUsd: 0.05 },
      { scope: 'tenant:a', capUsd: 0.02 },
      { scope: 'tenant:b', capUsd: 0.03 },
      { scope: 'model:m', capUsd: 0.025, period: 'day' },
    ];
    const capMicro = caps.map((cap) => micro(cap.capUsd));
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('reserve' as const),
        scopes: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
        amountMicro: fc.integer({ min: 0, max: 12_000 }),
        ttlSeconds: fc.integer({ min: 1, max: 120 }),
      }),
      fc.record({ kind: fc.constant('settle' as const), pick: fc.nat(), share: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('repeat' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 60_000 }) }),
    );

    it('agrees with a reference ledger on every step; spent + live holds never pass a cap', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (operations) => {
          const { guard, clock } = await setup();
          const spent = [0, 0, 0, 0];
          const open: { reservation: Reservation; scopes: number[]; amountMicro: number; expiresAtMs: number }[] = [];
          const closed: Reservation[] = [];
          const liveHeld = (scope: number) =>
            open.filter((hold) => hold.scopes.includes(scope) && hold.expiresAtMs > clock.now()).reduce((sum, hold) => sum + hold.amountMicro, 0);
          for (const step of operations) {
            if (step.kind === 'reserve') {
              const firstMisfit = step.scopes.find((scope) => spent[scope] + liveHeld(scope) + step.amountMicro > capMicro[scope]);
              const outcome = await guard.reserve(step.scopes.map((scope) => caps[scope]), step.amountMicro / 1e6, { requestId: 'p', ttlSeconds: step.ttlSeconds });
              expect(outcome.ok).toBe(firstMisfit === undefined);
              if (outcome.ok) open.push({ reservation: outcome.reservation, scopes: step.scopes, amountMicro: step.amountMicro, expiresAtMs: outcome.reservation.expiresAtMs });
              else expect(outcome.refusal.scope).toBe(caps[firstMisfit!].scope);
            } else if ((step.kind === 'settle' || step.kind === 'release') && open.length > 0) {
              const [hold] = open.splice(step.pick % open.length, 1);
              if (step.kind === 'settle') {
                const actualMicro = Math.floor(hold.amountMicro * step.share);
                expect(await hold.reservation.settle(actualMicro / 1e6)).toBe(true);
                for (const scope of hold.scopes) spent[scope] += actualMicro;
              } else {
                expect(await hold.reservation.release()).toBe(true);
              }
              closed.push(hold.reservation);
            } else if (step.kind === 'repeat' && closed.length > 0) {
              const reservation = closed[step.pick % closed.length];
              expect(await (step.pick % 2 === 0 ? reservation.settle(0.001) : reservation.release())).toBe(false);
            } else if (step.kind === 'advance') {
              clock.advance(step.ms);
            }
            const snapshot = await guard.snapshot(caps);
            snapshot.forEach((scope, index) => {
              expect([micro(scope.spentUsd), micro(scope.heldUsd)]).toEqual([spent[index], liveHeld(index)]);
              expect(micro(scope.spentUsd) + micro(scope.heldUsd)).toBeLessThanOrEqual(capMicro[index]);
            });
          }
        }),
        { numRuns: propertyRuns },
      );
    });

    it('under concurrent batches, never holds past a cap and counts each settle exactly once', async () => {
      const batch = fc.array(
        fc.record({ scopes: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }), amountMicro: fc.integer({ min: 1, max: 9_000 }), share: fc.double({ min: 0, max: 1, noNaN: true }), isReleased: fc.boolean() }),
        { minLength: 1, maxLength: 25 },
      );
      await fc.assert(
        fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 4 }), async (batches) => {
          const { guard } = await setup();
          const spent = [0, 0, 0, 0];
          for (const requests of batches) {
            const outcomes = await Promise.all(requests.map((request) => guard.reserve(request.scopes.map((scope) => caps[scope]), request.amountMicro / 1e6, { requestId: 'c' })));
            const heldNow = await guard.snapshot(caps);
            heldNow.forEach((scope, index) => expect(micro(scope.spentUsd) + micro(scope.heldUsd)).toBeLessThanOrEqual(capMicro[index]));
            // Each accepted reservation is closed twice at once (settle + settle, or release + settle): one wins.
            await Promise.all(
              outcomes.map(async (outcome, index) => {
                if (!outcome.ok) return;
                const request = requests[index];
                const actualMicro = Math.floor(request.amountMicro * request.share);
                const [first, second] = await Promise.all([
                  request.isReleased ? outcome.reservation.release() : outcome.reservation.settle(actualMicro / 1e6),
                  outcome.reservation.settle(actualMicro / 1e6),
                ]);
                expect(Number(first) + Number(second)).toBe(1);
                if (second || !request.isReleased) for (const scope of request.scopes) spent[scope] += actualMicro;
              }),
            );
            const settled = await guard.snapshot(caps);
            settled.forEach((scope, index) => expect([micro(scope.spentUsd), scope.heldUsd]).toEqual([spent[index], 0]));
          }
        }),
        { numRuns: Math.max(10, Math.floor(propertyRuns / 2)) },
      );
    });
  });
}
