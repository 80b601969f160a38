import type { BudgetPeriod } from './budget-guard.js';

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    // Throws RangeError for an unknown zone, which is what a misconfigured guard should do.
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * Every UTC offset in the tz database today is a whole number of quarter hours, so a local
 * midnight — the only moment a calendar date changes — falls on a UTC quarter-hour boundary: the
 * date is the same for a whole quarter hour, and is computed once per quarter hour, not per request
 * (formatToParts was half the budget guard's CPU on the hot path).
 */
const QUARTER_HOUR_MS = 900_000;
const lastDates = new Map<string, { bucket: number; date: CalendarDate }>();

export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** The calendar date of `instantMs` as seen in `timeZone`. */
export function calendarDate(instantMs: number, timeZone: string): CalendarDate {
  const bucket = Math.floor(instantMs / QUARTER_HOUR_MS);
  const last = lastDates.get(timeZone);
  if (last?.bucket === bucket) return last.date;
  const parts = formatterFor(timeZone).formatToParts(new Date(instantMs));
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((candidate) => candidate.type === type)?.value);
  const date = Object.freeze({ year: part('year'), month: part('month'), day: part('day') });
  lastDates.set(timeZone, { bucket, date });
  return date;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** ISO 8601 week of a calendar date: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(year: number, month: number, day: number): { weekYear: number; week: number } {
  const dateMs = Date.UTC(year, month - 1, day);
  const mondayBasedWeekday = (new Date(dateMs).getUTCDay() + 6) % 7;
  const thursdayMs = dateMs + (3 - mondayBasedWeekday) * DAY_MS;
  const weekYear = new Date(thursdayMs).getUTCFullYear();
  const week = 1 + Math.floor((thursdayMs - Date.UTC(weekYear, 0, 1)) / (7 * DAY_MS));
  return { weekYear, week };
}

/** `2026-11` (month), `2026-11-26` (day) or `2026-W48` (ISO week) for `instantMs` on `timeZone`'s calendar. */
export function periodKey(period: BudgetPeriod, instantMs: number, timeZone: string): string {
  const { year, month, day } = calendarDate(instantMs, timeZone);
  switch (period) {
    case 'month':
      return `${pad(year, 4)}-${pad(month)}`;
    case 'day':
      return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
    case 'week': {
      const { weekYear, week } = isoWeek(year, month, day);
      return `${pad(weekYear, 4)}-W${pad(week)}`;
    }
  }
}

/**
 * How long a period's ledger keys live after their last write: the longest the period can be plus a
 * week of grace for late settles and end-of-period reports. Every write happens at or after the
 * period starts, so the keys always outlive the period's end.
 */
export function ledgerTtlSeconds(period: BudgetPeriod): number {
  const longestDays = { day: 2, week: 8, month: 32 }[period];
  return (longestDays + 7) * 86_400;
}
