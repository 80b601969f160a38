import type { SqlSession } from './sql-database.js';

/**
 * The upper bounds (milliseconds) of the latency histogram of `dashboard_rollup.latency_bin`
 * (migration 006 spells the same list in its `width_bucket` call): bin i, 1 ≤ i ≤ 16, holds
 * [bounds[i-1], bounds[i]); bin 17 holds everything from the last bound up; bin 0, a negative latency.
 */
export const DASHBOARD_LATENCY_BINS_MS = [0, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 20000, 30000, 60000] as const;

/** Slots of `stepSeconds` from `start` (slot 0) up to `end`, over the rollup's hourly buckets. */
export interface SlotRange {
  start: Date;
  end: Date;
  stepSeconds: number;
}

/** Which final errors count as the gateway failing a request (the savings report's lists). */
export interface FailureLists {
  callerErrors: readonly string[];
  /** Counted only when no model was tried. */
  refusals: readonly string[];
}

export interface SlotTotals {
  slot: number;
  requests: number;
  served: number;
  /** Served by a local model or the cache. */
  localServed: number;
  cacheServed: number;
  escalations: number;
  costUsd: number;
  qualitySum: number;
  qualityCount: number;
  failures: number;
}

export interface SlotCount {
  slot: number;
  key: string | number;
  served: number;
}

const SLOT = `floor(extract(epoch from bucket - $1::timestamptz) / $3)::int`;
const IN_RANGE = `bucket >= $1 and bucket < $2`;

/** Per slot: the counts and sums every chart of the dashboard is drawn from. */
export async function querySlotTotals(session: SqlSession, range: SlotRange, failures: FailureLists): Promise<SlotTotals[]> {
  const { rows } = await session.query<Record<string, number | string>>(
    `select ${SLOT} as slot,
            sum(requests)::float8 as requests,
            sum(served)::float8 as served,
            (sum(served) filter (where route in ('local', 'cache')))::float8 as local_served,
            (sum(served) filter (where route = 'cache'))::float8 as cache_served,
            sum(escalations)::float8 as escalations,
            sum(cost_usd)::float8 as cost_usd,
            sum(quality_sum)::float8 as quality_sum,
            sum(quality_count)::float8 as quality_count,
            (sum(attempts) filter (where final_error <> '' and final_error not like 'http-4%' and final_error <> all($4::text[])
                                     and (model_id <> '' or final_error <> all($5::text[]))))::float8 as failures
       from dashboard_rollup where ${IN_RANGE}
      group by 1 order by 1`,
    [range.start.toISOString(), range.end.toISOString(), range.stepSeconds, failures.callerErrors, failures.refusals],
  );
  return rows.map((row) => ({
    slot: Number(row.slot),
    requests: Number(row.requests),
    served: Number(row.served),
    localServed: Number(row.local_served ?? 0),
    cacheServed: Number(row.cache_served ?? 0),
    escalations: Number(row.escalations),
    costUsd: Number(row.cost_usd),
    qualitySum: Number(row.quality_sum),
    qualityCount: Number(row.quality_count),
    failures: Number(row.failures ?? 0),
  }));
}

/** Served attempts per slot and `column` (the route, or the latency bin of the served attempts with a latency). */
export async function querySlotCounts(session: SqlSession, range: SlotRange, column: 'route' | 'latency_bin'): Promise<SlotCount[]> {
  const { rows } = await session.query<{ slot: number | string; key: string | number; served: number | string }>(
    `select ${SLOT} as slot, ${column} as key, sum(served)::float8 as served
       from dashboard_rollup where ${IN_RANGE} and served > 0 ${column === 'latency_bin' ? 'and latency_bin >= 0' : ''}
      group by 1, 2 order by 1, 2`,
    [range.start.toISOString(), range.end.toISOString(), range.stepSeconds],
  );
  return rows.map((row) => ({ slot: Number(row.slot), key: column === 'latency_bin' ? Number(row.key) : String(row.key), served: Number(row.served) }));
}

/**
 * Spend per slot before `until`, for the budget chart (the month, by day): the attempts' from the
 * rollup and shadow sampling's premium calls from `shadow_labels` (they write no model_inferences row).
 */
export async function querySlotSpend(session: SqlSession, range: SlotRange, until: Date): Promise<{ slot: number; costUsd: number }[]> {
  const { rows } = await session.query<{ slot: number | string; cost_usd: number | string }>(
    `select ${SLOT} as slot, sum(cost_usd)::float8 as cost_usd
       from (select bucket, cost_usd from dashboard_rollup where ${IN_RANGE} and bucket < $4
             union all
             select created_at, cost from shadow_labels where created_at >= $1 and created_at < least($2::timestamptz, $4::timestamptz) and cost is not null) spend
      group by 1 order by 1`,
    [range.start.toISOString(), range.end.toISOString(), range.stepSeconds, until.toISOString()],
  );
  return rows.map((row) => ({ slot: Number(row.slot), costUsd: Number(row.cost_usd) }));
}
