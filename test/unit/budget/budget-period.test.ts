import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoWeek, ledgerTtlSeconds, periodKey } from '../../../src/budget/budget-period.js';

describe('periodKey', () => {
  it('puts the same instant in different months in UTC and in Pacific/Kiritimati (UTC+14)', () => {
    const instant = Date.UTC(2026, 10, 30, 12); // 2026-11-30 12:00Z = 2026-12-01 02:00 in Kiritimati
    expect(periodKey('month', instant, 'UTC')).toBe('2026-11');
    expect(periodKey('month', instant, 'Pacific/Kiritimati')).toBe('2026-12');
    expect(periodKey('day', instant, 'Pacific/Kiritimati')).toBe('2026-12-01');
    expect(periodKey('day', instant, 'Pacific/Pago_Pago')).toBe('2026-11-30'); // UTC−11
    expect(periodKey('month', Date.UTC(2027, 0, 1, 3), 'America/Los_Angeles')).toBe('2026-12');
  });

  it('names ISO weeks, including years with 53 weeks and weeks that start in the previous year', () => {
    const day = (year: number, month: number, date: number) => Date.UTC(year, month - 1, date, 12);
    expect(periodKey('week', day(2026, 11, 26), 'UTC')).toBe('2026-W48');
    expect(periodKey('week', day(2027, 1, 1), 'UTC')).toBe('2026-W53');
    expect(periodKey('week', day(2024, 12, 30), 'UTC')).toBe('2025-W01');
    expect(periodKey('week', day(2021, 1, 3), 'UTC')).toBe('2020-W53');
    expect(periodKey('week', day(2021, 1, 4), 'UTC')).toBe('2021-W01');
  });

  it('turns the week over at Monday midnight of the configured zone', () => {
    const sundayLateUtc = Date.UTC(2026, 10, 29, 23, 30); // Monday 00:30 in Berlin
    expect(periodKey('week', sundayLateUtc, 'UTC')).toBe('2026-W48');
    expect(periodKey('week', sundayLateUtc, 'Europe/Berlin')).toBe('2026-W49');
    expect(periodKey('week', Date.UTC(2026, 10, 29, 22, 59, 59), 'Europe/Berlin')).toBe('2026-W48');
  });

  it('follows daylight-saving shifts of the zone', () => {
    // New York is UTC−4 until 2026-11-01 06:00Z, then UTC−5.
    expect(periodKey('day', Date.UTC(2026, 10, 2, 4, 30), 'America/New_York')).toBe('2026-11-01');
    expect(periodKey('day', Date.UTC(2026, 10, 2, 5, 30), 'America/New_York')).toBe('2026-11-02');
  });

  it('throws RangeError for an unknown zone', () => {
    expect(() => periodKey('month', 0, 'Nowhere/Atlantis')).toThrow(RangeError);
  });

  const instants = fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) });

  it('matches the UTC calendar for any instant', () => {
    fc.assert(
      fc.property(instants, (instant) => {
        const iso = new Date(instant).toISOString();
        expect(periodKey('day', instant, 'UTC')).toBe(iso.slice(0, 10));
        expect(periodKey('month', instant, 'UTC')).toBe(iso.slice(0, 7));
      }),
    );
  });

  it('keeps the ISO week from Monday to Sunday and moves it by one on Monday', () => {
    fc.assert(
      fc.property(instants, (instant) => {
        const date = new Date(instant);
        const today = isoWeek(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
        const next = new Date(instant + 86_400_000);
        const tomorrow = isoWeek(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
        expect(today.week).toBeGreaterThanOrEqual(1);
        expect(today.week).toBeLessThanOrEqual(53);
        if (next.getUTCDay() !== 1) expect(tomorrow).toEqual(today);
        else if (tomorrow.weekYear === today.weekYear) expect(tomorrow.week).toBe(today.week + 1);
        else expect([tomorrow.weekYear, tomorrow.week, today.weekYear]).toEqual([today.weekYear + 1, 1, today.weekYear]);
      }),
    );
  });

  it('keeps ledger keys alive past the longest period', () => {
    expect(ledgerTtlSeconds('day')).toBeGreaterThan(86_400);
    expect(ledgerTtlSeconds('week')).toBeGreaterThan(7 * 86_400);
    expect(ledgerTtlSeconds('month')).toBeGreaterThan(31 * 86_400);
  });
});
