import type { Config } from '../config/schema.js';
import { CALLER_ERRORS, periodBounds, REFUSALS, type ReportPeriod } from '../learning/savings-report.js';
import {
  DASHBOARD_LATENCY_BINS_MS,
  querySlotCounts,
  querySlotSpend,
  querySlotTotals,
  type SlotCount,
  type SlotRange,
} from '../store/dashboard-rollup.js';
import type { SqlSession } from '../store/sql-database.js';

/** A drift alert as the dashboard lists it. */
export interface DashboardDriftAlert {
  signal: string;
  score: number;
  p_value: number | null;
  at: string;
}

/** An optimizer proposal saved and not applied. */
export interface DashboardProposal {
  version: number;
  created_at: string;
  changes: { setting: string; tier: string | null; from: number; to: number; reason: string }[];
}

/** What the live gateway adds to what the log says. */
export interface DashboardSources {
  /** The budget ledger's month so far for the global scope; none without a ledger to ask. */
  ledgerSpentUsd?: () => Promise<number | undefined>;
  driftAlerts?: () => readonly DashboardDriftAlert[];
  pendingProposals?: () => readonly DashboardProposal[];
}

type Series = (number | null)[];

/**
 * GET /admin/dashboard/data: every chart's points, in slots of the period (an hour of a day, six
 * hours of a week, a day of a month), summed in SQL from the hourly `dashboard_rollup`, so its
 * cost does not grow with the log. Counts are of attempts as they were logged: a request's
 * escalated and served attempts fall in the slots they ran in; latency is the served attempt's
 * own, its p95 read from the rollup's histogram (interpolated inside the bin).
 */
export interface DashboardData {
  object: 'sluice.dashboard';
  period: { kind: ReportPeriod; start: string; end: string; time_zone: string; slot_seconds: number };
  generated_at: string;
  targets: { local_share: number; cost_per_request_usd: number; quality: number; latency_ms: number; failure_rate: number };
  totals: {
    requests: number;
    served: number;
    spend_usd: number;
    local_share: number | null;
    cost_per_request_usd: number | null;
    quality: number | null;
    latency_p95_ms: number | null;
    failure_rate: number | null;
    cache_hit_rate: number | null;
    escalations: number;
  };
  /** Parallel arrays: `time` is each slot's start (Unix seconds); the rest one value per slot, null where the slot has no data for it. */
  series: {
    time: number[];
    requests: Series;
    local_share: Series;
    cost_per_request_usd: Series;
    quality: Series;
    latency_p95_ms: Series;
    failure_rate: Series;
    cache_hit_rate: Series;
    escalations: Series;
  };
  /** Answers per slot by route (`local`, `cache`, or a vendor's backend id), busiest route first. */
  route_mix: { route: string; answers: Series }[];
  /** This month on the budget's calendar, by day: spend up to now (shadow calls included), and where its pace leads. */
  budget: {
    monthly_usd: number;
    month_start: string;
    month_end: string;
    month_to_date_usd: number;
    projected_month_end_usd: number;
    ledger_spent_usd: number | null;
    days: { time: number[]; cumulative_usd: Series };
  };
  drift_alerts: DashboardDriftAlert[];
  proposals: DashboardProposal[];
}

export interface DashboardOptions {
  targets: Config['targets'];
  budget: Pick<Config['budget'], 'monthly_usd' | 'time_zone'>;
  period: ReportPeriod;
  now?: Date;
}

const SLOT_SECONDS: Record<ReportPeriod, number> = { day: 3_600, week: 6 * 3_600, month: 86_400 };
const FAILURES = { callerErrors: CALLER_ERRORS, refusals: REFUSALS };

export async function buildDashboardData(session: SqlSession, options: DashboardOptions, sources: DashboardSources = {}): Promise<DashboardData> {
  const now = options.now ?? new Date();
  const bounds = await periodBounds(session, options.period, now, options.budget.time_zone);
  const range: SlotRange = { start: bounds.start, end: bounds.end, stepSeconds: SLOT_SECONDS[options.period] };
  const month: SlotRange = { start: bounds.monthStart, end: bounds.monthEnd, stepSeconds: 86_400 };
  const [totals, routes, latencies, monthSpend, ledgerSpentUsd] = await Promise.all([
    querySlotTotals(session, range, FAILURES),
    querySlotCounts(session, range, 'route'),
    querySlotCounts(session, range, 'latency_bin'),
    querySlotSpend(session, month, now),
    sources.ledgerSpentUsd?.(),
  ]);
  // Slots that start after now are null, not zero: nothing happened there yet.
  const slots = slotTimes(range);
  const pastSlots = slots.filter((slot) => slot.seconds * 1000 <= now.getTime()).length;
  const upToNow = <T>(value: T, slot: number) => (slot < pastSlots ? value : null);
  const bySlot = new Map(totals.map((row) => [row.slot, row]));
  const at = (slot: number) => bySlot.get(slot);
  const sum = (read: (row: (typeof totals)[number]) => number) => totals.reduce((total, row) => total + read(row), 0);
  const latencyOf = (slot?: number) => p95Of(latencies.filter((row) => slot === undefined || row.slot === slot));
  const requests = sum((row) => row.requests);
  const served = sum((row) => row.served);
  const spendUsd = sum((row) => row.costUsd);

  const budget = budgetOf(monthSpend, bounds.monthStart, bounds.monthEnd, now, options.budget.monthly_usd);
  return {
    object: 'sluice.dashboard',
    period: { kind: options.period, start: bounds.start.toISOString(), end: bounds.end.toISOString(), time_zone: options.budget.time_zone, slot_seconds: range.stepSeconds },
    generated_at: now.toISOString(),
    targets: {
      local_share: options.targets.local_share,
      cost_per_request_usd: options.targets.cost_per_request_usd,
      quality: options.targets.quality,
      latency_ms: options.targets.latency_ms,
      failure_rate: options.targets.failure_rate,
    },
    totals: {
      requests,
      served,
      spend_usd: spendUsd,
      local_share: ratio(sum((row) => row.localServed), served),
      cost_per_request_usd: ratio(spendUsd, requests),
      quality: ratio(sum((row) => row.qualitySum), sum((row) => row.qualityCount)),
      latency_p95_ms: latencyOf(),
      failure_rate: ratio(sum((row) => row.failures), requests),
      cache_hit_rate: ratio(sum((row) => row.cacheServed), requests),
      escalations: sum((row) => row.escalations),
    },
    series: {
      time: slots.map((slot) => slot.seconds),
      requests: slots.map(({ slot }) => upToNow(at(slot)?.requests ?? 0, slot)),
      local_share: slots.map(({ slot }) => ratio(at(slot)?.localServed ?? 0, at(slot)?.served ?? 0)),
      cost_per_request_usd: slots.map(({ slot }) => ratio(at(slot)?.costUsd ?? 0, at(slot)?.requests ?? 0)),
      quality: slots.map(({ slot }) => ratio(at(slot)?.qualitySum ?? 0, at(slot)?.qualityCount ?? 0)),
      latency_p95_ms: slots.map(({ slot }) => latencyOf(slot)),
      failure_rate: slots.map(({ slot }) => ratio(at(slot)?.failures ?? 0, at(slot)?.requests ?? 0)),
      cache_hit_rate: slots.map(({ slot }) => ratio(at(slot)?.cacheServed ?? 0, at(slot)?.requests ?? 0)),
      escalations: slots.map(({ slot }) => upToNow(at(slot)?.escalations ?? 0, slot)),
    },
    route_mix: routeMixOf(routes, slots.length, pastSlots),
    budget: { ...budget, ledger_spent_usd: ledgerSpentUsd ?? null },
    drift_alerts: [...(sources.driftAlerts?.() ?? [])],
    proposals: [...(sources.pendingProposals?.() ?? [])],
  };
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** Each slot's index and start; the last may be cut short by the period's end (a DST day has 23 or 25 hours). */
function slotTimes(range: SlotRange): { slot: number; seconds: number }[] {
  const count = Math.ceil((range.end.getTime() - range.start.getTime()) / (range.stepSeconds * 1000));
  return Array.from({ length: count }, (_, slot) => ({ slot, seconds: range.start.getTime() / 1000 + slot * range.stepSeconds }));
}

function routeMixOf(rows: readonly SlotCount[], slotCount: number, pastSlots: number): DashboardData['route_mix'] {
  const byRoute = new Map<string, Series>();
  for (const row of rows) {
    if (row.slot < 0 || row.slot >= slotCount) continue;
    const answers = byRoute.get(String(row.key)) ?? Array.from({ length: slotCount }, (_, slot) => (slot < pastSlots ? 0 : null));
    answers[row.slot] = (answers[row.slot] ?? 0) + row.served;
    byRoute.set(String(row.key), answers);
  }
  const total = (answers: Series) => answers.reduce<number>((sum, value) => sum + (value ?? 0), 0);
  return [...byRoute].map(([route, answers]) => ({ route, answers })).sort((a, b) => total(b.answers) - total(a.answers) || a.route.localeCompare(b.route));
}

/**
 * The 95th percentile of the histogram rows, interpolated linearly inside the bin it falls in;
 * in the open top bin it is that bin's lower bound. Null without a served attempt with a latency.
 */
export function p95Of(rows: readonly SlotCount[]): number | null {
  const counts = new Map<number, number>();
  for (const row of rows) counts.set(Number(row.key), (counts.get(Number(row.key)) ?? 0) + row.served);
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = 0.95 * total;
  let below = 0;
  for (const bin of [...counts.keys()].sort((a, b) => a - b)) {
    const count = counts.get(bin)!;
    if (below + count >= rank) {
      const lower = bin <= 0 ? 0 : DASHBOARD_LATENCY_BINS_MS[bin - 1]!;
      const upper = DASHBOARD_LATENCY_BINS_MS[bin];
      return upper === undefined || bin <= 0 ? lower : lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return null;
}

function budgetOf(days: readonly { slot: number; costUsd: number }[], monthStart: Date, monthEnd: Date, now: Date, monthlyUsd: number) {
  const range = { start: monthStart, end: monthEnd, stepSeconds: 86_400 };
  const slots = slotTimes(range);
  const spentBySlot = new Map(days.map((day) => [day.slot, day.costUsd]));
  const today = Math.floor((now.getTime() - monthStart.getTime()) / 86_400_000);
  let running = 0;
  const cumulative = slots.map(({ slot }) => {
    running += spentBySlot.get(slot) ?? 0;
    return slot <= today ? running : null;
  });
  const monthToDateUsd = running;
  const monthMs = monthEnd.getTime() - monthStart.getTime();
  const elapsedMs = Math.min(monthMs, Math.max(0, now.getTime() - monthStart.getTime()));
  return {
    monthly_usd: monthlyUsd,
    month_start: monthStart.toISOString(),
    month_end: monthEnd.toISOString(),
    month_to_date_usd: monthToDateUsd,
    projected_month_end_usd: elapsedMs > 0 ? (monthToDateUsd * monthMs) / elapsedMs : monthToDateUsd,
    days: { time: slots.map((slot) => slot.seconds), cumulative_usd: cumulative },
  };
}
