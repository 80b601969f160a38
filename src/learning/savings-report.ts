import { chatCostUsd } from '../budget/price-table.js';
import type { Config, ModelConfig, PriceConfig } from '../config/schema.js';
import type { SqlSession } from '../store/sql-database.js';

export const REPORT_PERIODS = ['day', 'week', 'month'] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

/** What the report reads from the config: the targets, the cap and its calendar, the models' prices. */
export interface SavingsReportSettings {
  targets: Config['targets'];
  budget: Pick<Config['budget'], 'monthly_usd' | 'time_zone'>;
  models: readonly Pick<ModelConfig, 'id' | 'capabilities' | 'price'>[];
}

export interface SavingsReportOptions extends SavingsReportSettings {
  /** The current day, ISO week (Monday first) or month on `budget.time_zone`'s calendar; month by default. */
  period?: ReportPeriod;
  /** The moment the report is made for; now by default (tests pass their own). */
  now?: Date;
  /** How many models and tenants the top lists keep; 5 by default. */
  topCount?: number;
}

export interface TargetCheck {
  name: 'local_share' | 'cost_per_request_usd' | 'quality' | 'latency_p95_ms' | 'failure_rate' | 'projected_month_usd';
  /** Undefined (null in JSON) when the period has no data for it. */
  value: number | null;
  target: number;
  /** `min`: the value must reach the target; `max`: it must stay at or under it. */
  direction: 'min' | 'max';
  /** Null when there is no value to judge. */
  pass: boolean | null;
}

export interface ModelCost {
  model: string;
  cost_usd: number;
  /** Attempts on this model (a request that escalated counts once on each model it tried). */
  attempts: number;
  /** Attempts whose answer the client received (a cache hit counts for the model that made the answer). */
  answers: number;
}

export interface TenantCost {
  /** The key's name; null for requests with no key (an open gateway). */
  tenant: string | null;
  cost_usd: number;
  requests: number;
}

/** The savings report (issue 11 item 4): plain data, JSON as it stands. Shares are 0..1, `savings_pct` 0..100. */
export interface SavingsReport {
  object: 'sluice.savings_report';
  period: { kind: ReportPeriod; start: string; end: string; time_zone: string; generated_at: string };
  requests: number;
  chat_requests: number;
  answered_chat_requests: number;
  /** Every attempt's cost plus `shadow_spend_usd`. */
  spend_usd: number;
  /** What shadow sampling's premium calls cost (learning.shadow, the caller `sluice:shadow`): they are no request's attempts. */
  shadow_spend_usd: number;
  baseline_model: string;
  /** Null when the baseline model is not configured. */
  counterfactual_usd: number | null;
  savings_usd: number | null;
  savings_pct: number | null;
  local_share: number | null;
  cache_share: number | null;
  cost_per_request_usd: number | null;
  quality_mean: number | null;
  quality_scored: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  failures: number;
  failure_rate: number | null;
  budget: { monthly_usd: number; month_to_date_usd: number; projected_month_end_usd: number; pass: boolean };
  targets: TargetCheck[];
  top_models: ModelCost[];
  top_tenants: TenantCost[];
}

/**
 * What is not the gateway failing a request: the caller's own mistake or departure (and a vendor
 * saying the request is malformed; an `http-4xx` passthrough answer likewise), and `usage-missing`,
 * a passthrough answer that came without usage. A budget refusal is a failure: the caller asked
 * for something valid and got no answer.
 */
export const CALLER_ERRORS = ['invalid-request', 'unprocessable', 'payload-too-large', 'client-closed', 'usage-missing'];
/** Refusals that are the gateway doing its job, when they came before any model was tried; a vendor's 429 on the last attempt is a failure. */
export const REFUSALS = ['unauthenticated', 'model-not-allowed', 'not-found', 'rate-limited'];

export interface PeriodBounds {
  start: Date;
  end: Date;
  monthStart: Date;
  monthEnd: Date;
}

/**
 * Builds the report from `model_inferences` (one row per attempt). Definitions:
 * - a request is a request_id, and belongs to the period its first attempt started in;
 * - its last attempt decides what it was: `chat` when that attempt was the cache, or a model
 *   outside the passthrough that is not configured without `chat` (a model since removed from
 *   the config still counts: most traffic is chat, and the rows of one cannot tell); served when that attempt was `answered` or `cache-hit`;
 *   local when a served chat request was answered by a local model or the cache; failed when it
 *   carries an error that is not the caller's (CALLER_ERRORS) nor a refusal before any model ran (REFUSALS);
 * - spend is every attempt's cost, escalations and failed attempts included;
 * - the counterfactual prices each chat request's last-attempt tokens at the baseline model
 *   (a chat request without tokens, and every non-chat request, keeps its real cost);
 * - a request's latency runs from its first attempt's start to the end of its last attempt
 *   (the backend time the client waited, fallbacks and escalations included); p50/p95 and
 *   quality cover served chat requests; cost per request is chat spend over chat requests.
 */
export async function buildSavingsReport(session: SqlSession, options: SavingsReportOptions): Promise<SavingsReport> {
  const now = options.now ?? new Date();
  const kind = options.period ?? 'month';
  const bounds = await periodBounds(session, kind, now, options.budget.time_zone);
  const otherModels = options.models.filter((model) => !model.capabilities.includes('chat')).map((model) => model.id);
  const totals = await queryTotals(session, bounds, otherModels);
  const topCount = options.topCount ?? 5;
  const [topModels, topTenants, monthToDateUsd, shadowSpendUsd] = await Promise.all([
    queryTopModels(session, bounds, topCount),
    queryTopTenants(session, bounds, topCount),
    queryMonthToDate(session, bounds, now),
    queryShadowSpend(session, bounds.start, bounds.end),
  ]);
  const spendUsd = totals.spend_usd + shadowSpendUsd;

  const baseline = options.models.find((model) => model.id === options.targets.baseline_model);
  const counterfactualUsd = baseline ? counterfactualOf(baseline.price, totals) : null;
  // The counterfactual has no shadow calls: sending everything to the baseline needs no second opinion.
  const savingsUsd = counterfactualUsd === null ? null : counterfactualUsd - spendUsd;
  const localShare = ratio(totals.local_answered, totals.chat_answered);
  const costPerRequestUsd = ratio(totals.chat_spend_usd, totals.chat_requests);
  const failureRate = ratio(totals.failures, totals.requests);
  const projectedUsd = projectMonthEnd(monthToDateUsd, bounds, now);
  const { targets, budget } = options;
  return {
    object: 'sluice.savings_report',
    period: { kind, start: bounds.start.toISOString(), end: bounds.end.toISOString(), time_zone: budget.time_zone, generated_at: now.toISOString() },
    requests: totals.requests,
    chat_requests: totals.chat_requests,
    answered_chat_requests: totals.chat_answered,
    spend_usd: spendUsd,
    shadow_spend_usd: shadowSpendUsd,
    baseline_model: targets.baseline_model,
    counterfactual_usd: counterfactualUsd,
    savings_usd: savingsUsd,
    savings_pct: savingsUsd === null || !counterfactualUsd ? null : (100 * savingsUsd) / counterfactualUsd,
    local_share: localShare,
    cache_share: ratio(totals.cache_answered, totals.chat_answered),
    cost_per_request_usd: costPerRequestUsd,
    quality_mean: totals.quality_mean,
    quality_scored: totals.quality_scored,
    latency_p50_ms: totals.latency_p50_ms,
    latency_p95_ms: totals.latency_p95_ms,
    failures: totals.failures,
    failure_rate: failureRate,
    budget: { monthly_usd: budget.monthly_usd, month_to_date_usd: monthToDateUsd, projected_month_end_usd: projectedUsd, pass: projectedUsd <= budget.monthly_usd },
    targets: [
      check('local_share', localShare, targets.local_share, 'min'),
      check('cost_per_request_usd', costPerRequestUsd, targets.cost_per_request_usd, 'max'),
      check('quality', totals.quality_mean, targets.quality, 'min'),
      check('latency_p95_ms', totals.latency_p95_ms, targets.latency_ms, 'max'),
      check('failure_rate', failureRate, targets.failure_rate, 'max'),
      check('projected_month_usd', projectedUsd, budget.monthly_usd, 'max'),
    ],
    top_models: topModels,
    top_tenants: topTenants,
  };
}

/** The settings a gateway's config gives the report. */
export function reportSettingsOf(config: Config): SavingsReportSettings {
  return { targets: config.targets, budget: config.budget, models: config.models };
}

function check(name: TargetCheck['name'], value: number | null, target: number, direction: TargetCheck['direction']): TargetCheck {
  const pass = value === null ? null : direction === 'min' ? value >= target : value <= target;
  return { name, value, target, direction, pass };
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** Month-to-date spend spread over the whole month at the pace so far. */
function projectMonthEnd(monthToDateUsd: number, bounds: PeriodBounds, now: Date): number {
  const monthMs = bounds.monthEnd.getTime() - bounds.monthStart.getTime();
  const elapsedMs = Math.min(monthMs, Math.max(0, now.getTime() - bounds.monthStart.getTime()));
  return elapsedMs > 0 ? (monthToDateUsd * monthMs) / elapsedMs : monthToDateUsd;
}

/** The price is linear in the tokens, so the summed tokens priced once equal the per-request sum. */
function counterfactualOf(price: PriceConfig, totals: Totals): number {
  const tokens = { prompt_tokens: totals.baseline_prompt_tokens, completion_tokens: totals.baseline_completion_tokens, total_tokens: totals.baseline_prompt_tokens + totals.baseline_completion_tokens };
  return (chatCostUsd(price, tokens) ?? 0) + totals.unpriced_spend_usd;
}

/**
 * The period's and its month's bounds, computed by the database on the zone's wall clock, so a
 * daylight-saving change inside the period moves its end with it.
 */
export async function periodBounds(session: SqlSession, kind: ReportPeriod, now: Date, timeZone: string): Promise<PeriodBounds> {
  const { rows } = await session.query<{ start: Date | string; end: Date | string; month_start: Date | string; month_end: Date | string }>(
    `with local_now as (select $1::timestamptz at time zone $2 as wall)
     select date_trunc($3, wall) at time zone $2 as start,
            (date_trunc($3, wall) + ('1 ' || $3)::interval) at time zone $2 as "end",
            date_trunc('month', wall) at time zone $2 as month_start,
            (date_trunc('month', wall) + interval '1 month') at time zone $2 as month_end
       from local_now`,
    [now.toISOString(), timeZone, kind],
  );
  const row = rows[0]!;
  return { start: new Date(row.start), end: new Date(row.end), monthStart: new Date(row.month_start), monthEnd: new Date(row.month_end) };
}

interface Totals {
  requests: number;
  chat_requests: number;
  chat_answered: number;
  local_answered: number;
  cache_answered: number;
  spend_usd: number;
  chat_spend_usd: number;
  /** Spend the counterfactual keeps as it was: non-chat requests and chat requests without tokens. */
  unpriced_spend_usd: number;
  baseline_prompt_tokens: number;
  baseline_completion_tokens: number;
  quality_mean: number | null;
  quality_scored: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  failures: number;
}

/**
 * $1/$2 bound the period, $3 lists the configured models that cannot chat, $4/$5 the errors above.
 * Migration 007 keeps what the report reads up to date as attempts are logged: per request
 * (`report_requests`, its last attempt's fields and its latency) and summed by the quarter hour of
 * its first attempt (`report_totals_rollup`; every zone's midnight is on a quarter hour), so no
 * query here reads every attempt of the period.
 */
const CHAT = `(route = 'cache' or (model_id <> '' and model_id <> all($3::text[]) and not is_passthrough))`;
const FAILURE = `(error <> '' and error not like 'http-4%' and error <> all($4::text[]) and (model_id <> '' or error <> all($5::text[])))`;
const PERIOD_TOTALS = `
  totals as (
    select *, ${CHAT} as is_chat, ${FAILURE} as is_failure
      from report_totals_rollup where bucket >= $1 and bucket < $2
  )`;
/** The same definitions on report_requests' nullable columns. */
const PERIOD_REQUESTS = `
  requests as (
    select latency_ms,
           (route = 'cache' or (model_id is not null and model_id <> all($3::text[]) and coalesce(routing_reason, '') not like 'passthrough %')) as is_chat,
           (outcome in ('answered', 'cache-hit')) as is_served
      from report_requests where first_at >= $1 and first_at < $2
  )`;

async function queryTotals(session: SqlSession, bounds: PeriodBounds, otherModels: readonly string[]): Promise<Totals> {
  const params = [bounds.start.toISOString(), bounds.end.toISOString(), otherModels, CALLER_ERRORS, REFUSALS];
  const [{ rows }, { rows: latencies }] = await Promise.all([
    session.query<Record<string, number | string | null>>(
      `with ${PERIOD_TOTALS}
       select coalesce(sum(requests), 0)::int as requests,
              coalesce(sum(requests) filter (where is_chat), 0)::int as chat_requests,
              coalesce(sum(requests) filter (where is_chat and is_served), 0)::int as chat_answered,
              coalesce(sum(requests) filter (where is_chat and is_served and route in ('local', 'cache')), 0)::int as local_answered,
              coalesce(sum(requests) filter (where is_chat and is_served and route = 'cache'), 0)::int as cache_answered,
              coalesce(sum(cost_usd), 0)::float8 as spend_usd,
              coalesce(sum(cost_usd) filter (where is_chat), 0)::float8 as chat_spend_usd,
              coalesce(sum(cost_usd) filter (where not is_chat or not has_prompt_tokens or not has_completion_tokens), 0)::float8 as unpriced_spend_usd,
              coalesce(sum(prompt_tokens) filter (where is_chat and has_completion_tokens), 0)::float8 as baseline_prompt_tokens,
              coalesce(sum(completion_tokens) filter (where is_chat and has_prompt_tokens), 0)::float8 as baseline_completion_tokens,
              (sum(quality_sum) filter (where is_chat and is_served) / nullif(sum(quality_count) filter (where is_chat and is_served), 0))::float8 as quality_mean,
              coalesce(sum(quality_count) filter (where is_chat and is_served), 0)::int as quality_scored,
              coalesce(sum(requests) filter (where is_failure), 0)::int as failures
         from totals`,
      params,
    ),
    // One sort for both percentiles (the array form): sorting is most of the report's time on PGlite.
    session.query<{ latency_percentiles: (number | string | null)[] | null }>(
      `with ${PERIOD_REQUESTS}
       select percentile_cont(array[0.5, 0.95]::float8[]) within group (order by latency_ms) filter (where is_chat and is_served) as latency_percentiles
         from requests`,
      params.slice(0, 3),
    ),
  ]);
  // pg returns float8 as numbers and int as numbers; only the averages and percentiles may be null.
  const entries = Object.entries(rows[0]!).map(([key, value]) => [key, value === null ? null : Number(value)]);
  const percentiles = latencies[0]?.latency_percentiles;
  const percentile = (index: number) => (percentiles?.[index] === undefined || percentiles[index] === null ? null : Number(percentiles[index]));
  return { ...(Object.fromEntries(entries) as Omit<Totals, 'latency_p50_ms' | 'latency_p95_ms'>), latency_p50_ms: percentile(0), latency_p95_ms: percentile(1) };
}

/**
 * The top lists read `report_attempt_rollup`, whose quarter-hour buckets are those of each
 * attempt's request's first attempt: the period's bounds (a midnight in any zone) fall on them.
 */
async function queryTopModels(session: SqlSession, bounds: PeriodBounds, limit: number): Promise<ModelCost[]> {
  const { rows } = await session.query<{ model: string; cost_usd: number | string; attempts: number | string; answers: number | string }>(
    `select model_id as model, sum(cost_usd)::float8 as cost_usd, sum(attempts)::int as attempts, sum(answers)::int as answers
       from report_attempt_rollup
      where model_id <> '' and bucket >= $1 and bucket < $2
      group by model_id order by 2 desc, 3 desc, 1 limit $3`,
    [bounds.start.toISOString(), bounds.end.toISOString(), limit],
  );
  return rows.map((row) => ({ model: row.model, cost_usd: Number(row.cost_usd), attempts: Number(row.attempts), answers: Number(row.answers) }));
}

async function queryTopTenants(session: SqlSession, bounds: PeriodBounds, limit: number): Promise<TenantCost[]> {
  const { rows } = await session.query<{ tenant: string | null; cost_usd: number | string; requests: number | string }>(
    // Every request has exactly one first attempt: summing those counts requests. '' is "no key".
    `select nullif(tenant, '') as tenant, sum(cost_usd)::float8 as cost_usd, sum(first_attempts)::int as requests
       from report_attempt_rollup
      where bucket >= $1 and bucket < $2
      group by tenant order by 2 desc, 3 desc, 1 nulls last limit $3`,
    [bounds.start.toISOString(), bounds.end.toISOString(), limit],
  );
  return rows.map((row) => ({ tenant: row.tenant, cost_usd: Number(row.cost_usd), requests: Number(row.requests) }));
}

const HOUR_MS = 3_600_000;

/**
 * Everything spent this month up to `now`, shadow calls included, whatever period the report shows.
 * The whole hours come from `dashboard_rollup` (migration 006, by each attempt's own hour), the
 * ragged ends (the current hour; a month starting on a half-hour zone's midnight) from the log.
 */
async function queryMonthToDate(session: SqlSession, bounds: PeriodBounds, now: Date): Promise<number> {
  const fromMs = bounds.monthStart.getTime();
  const wholeFromMs = Math.ceil(fromMs / HOUR_MS) * HOUR_MS;
  const wholeToMs = Math.max(wholeFromMs, Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  const iso = (ms: number) => new Date(ms).toISOString();
  const { rows } = await session.query<{ spent: number | string }>(
    `select (coalesce((select sum(cost_usd) from dashboard_rollup where bucket >= $2 and bucket < $3), 0)
           + coalesce((select sum(cost) from model_inferences where created_at >= $1 and created_at < $2 and created_at <= $4), 0)
           + coalesce((select sum(cost) from model_inferences where created_at >= greatest($1::timestamptz, $3::timestamptz) and created_at <= $4), 0))::float8 as spent`,
    [iso(fromMs), iso(wholeFromMs), iso(wholeToMs), now.toISOString()],
  );
  const shadowUsd = await queryShadowSpend(session, bounds.monthStart, now, true);
  return Number(rows[0]?.spent ?? 0) + shadowUsd;
}

/**
 * Shadow sampling's vendor spend from `shadow_labels.cost` (the sampler settles its hold and
 * stores the cost with the label; it writes no model_inferences row), in [from, to) or [from, to].
 */
async function queryShadowSpend(session: SqlSession, from: Date, to: Date, isToInclusive = false): Promise<number> {
  const { rows } = await session.query<{ spent: number | string }>(
    `select coalesce(sum(cost), 0)::float8 as spent from shadow_labels where created_at >= $1 and created_at ${isToInclusive ? '<=' : '<'} $2`,
    [from.toISOString(), to.toISOString()],
  );
  return Number(rows[0]?.spent ?? 0);
}

/** A report for a period, as GET /admin/report asks for it. */
export type SavingsReports = (period: ReportPeriod) => Promise<SavingsReport>;

/**
 * The gateway's reports: from its own database, after the log's queue is written (`flush`), so a
 * request answered a moment ago is in them. Undefined without a SQL database (supabase-js).
 */
export function liveSavingsReports(database: SqlSession | undefined, config: Config, flush?: () => Promise<void>): SavingsReports | undefined {
  if (!database) return undefined;
  const settings = reportSettingsOf(config);
  return async (period) => {
    await flush?.();
    return buildSavingsReport(database, { ...settings, period });
  };
}
