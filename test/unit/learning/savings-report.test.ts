import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { buildSavingsReport, reportSettingsOf, type SavingsReport, type SavingsReportOptions } from '../../../src/learning/savings-report.js';
import { renderReport } from '../../../src/learning/report-format.js';
import { toLoggedInference, type InferenceRow } from '../../../src/store/inference-log.js';
import { openPgliteDatabase } from '../../../src/store/pglite-store.js';
import type { SqlDatabase } from '../../../src/store/sql-database.js';
import { SqlRowSink } from '../../../src/store/sql-row-sink.js';
import { SqlShadowLabelStore } from '../../../src/store/feedback-store.js';

const config = parseConfig({
  backends: {
    local: { type: 'llama-cpp', requires_key: false },
    deepseek: { type: 'openai-compatible', requires_key: false },
    anthropic: { type: 'anthropic', requires_key: false },
    openai: { type: 'openai', requires_key: false },
  },
  models: [
    { id: 'local-llm', backend: 'local', capabilities: ['chat'] },
    { id: 'deepseek-chat', backend: 'deepseek', capabilities: ['chat'], price: { input_per_1m: 0.27, output_per_1m: 1.1 } },
    { id: 'claude-3-5-sonnet-latest', backend: 'anthropic', capabilities: ['chat'], price: { input_per_1m: 3, output_per_1m: 15 } },
    { id: 'text-embedding-3-small', backend: 'openai', capabilities: ['embed'], price: { input_per_1m: 0.02, output_per_1m: 0 } },
  ],
});

const HOSTILE = '<script>alert("x")</script> & co';
const at = (iso: string, plusMs = 0) => new Date(new Date(iso).getTime() + plusMs);
const DAY = '2026-12-10T09:00:00Z';

/**
 * A hand-computed month (December 2026, UTC), one request per line:
 * two local answers, a cache hit, a local answer escalated to DeepSeek, a Claude answer, a request
 * whose two vendors both failed, a malformed request, a rate-limited one, an embedding (the day before), and a large
 * Claude answer in the last minutes of November.
 */
const ROWS: InferenceRow[] = [
  { requestId: 'local-1', attempt: 1, tenant: 'acme', modelId: 'local-llm', route: 'local', outcome: 'answered', costUsd: 0, promptTokens: 1000, completionTokens: 500, latencyMs: 400, qualityScore: 0.9, createdAt: at(DAY) },
  { requestId: 'local-2', attempt: 1, tenant: 'acme', modelId: 'local-llm', route: 'local', outcome: 'answered', costUsd: 0, promptTokens: 2000, completionTokens: 1000, latencyMs: 600, qualityScore: 0.8, createdAt: at(DAY, 1000) },
  { requestId: 'cached', attempt: 1, tenant: 'acme', modelId: 'deepseek-chat', route: 'cache', outcome: 'cache-hit', cacheStatus: 'exact', costUsd: 0, promptTokens: 1000, completionTokens: 500, latencyMs: 10, createdAt: at(DAY, 2000) },
  { requestId: 'escalated', attempt: 1, tenant: 'beta', modelId: 'local-llm', route: 'local', outcome: 'escalated', costUsd: 0, promptTokens: 1000, completionTokens: 500, latencyMs: 800, qualityScore: 0.4, createdAt: at(DAY, 3000) },
  // 1000 × 0.27 + 500 × 1.1 per million = $0.00082; the request took 800 + 1200 ms.
  { requestId: 'escalated', attempt: 2, tenant: 'beta', modelId: 'deepseek-chat', route: 'deepseek', outcome: 'answered', costUsd: 0.00082, promptTokens: 1000, completionTokens: 500, latencyMs: 1200, escalatedFrom: 'local-llm', createdAt: at(DAY, 3800) },
  // 2000 × 3 + 1000 × 15 per million = $0.021.
  { requestId: 'vendor', attempt: 1, tenant: HOSTILE, modelId: 'claude-3-5-sonnet-latest', route: 'anthropic', outcome: 'answered', costUsd: 0.021, promptTokens: 2000, completionTokens: 1000, latencyMs: 3000, createdAt: at(DAY, 5000) },
  { requestId: 'failed', attempt: 1, tenant: 'beta', modelId: 'deepseek-chat', route: 'deepseek', outcome: 'failed', error: 'upstream-unavailable', latencyMs: 100, createdAt: at(DAY, 6000) },
  // The vendor's own 429 on the last candidate: the gateway failed this one.
  { requestId: 'failed', attempt: 2, tenant: 'beta', modelId: 'claude-3-5-sonnet-latest', route: 'anthropic', outcome: 'failed', error: 'rate-limited', latencyMs: 5000, createdAt: at(DAY, 6100) },
  { requestId: 'malformed', attempt: 1, error: 'invalid-request', latencyMs: 2, createdAt: at(DAY, 7000) },
  // Refused by the gateway's own rate limiter before any model: working as designed, not a failure.
  { requestId: 'throttled', attempt: 1, tenant: 'acme', error: 'rate-limited', latencyMs: 1, createdAt: at(DAY, 7500) },
  { requestId: 'embedding', attempt: 1, tenant: 'acme', modelId: 'text-embedding-3-small', route: 'openai', outcome: 'answered', costUsd: 0.0001, promptTokens: 5000, completionTokens: 0, latencyMs: 50, createdAt: at('2026-12-09T12:00:00Z') },
  { requestId: 'november', attempt: 1, tenant: 'acme', modelId: 'claude-3-5-sonnet-latest', route: 'anthropic', outcome: 'answered', costUsd: 5, promptTokens: 1_000_000, completionTokens: 133_333, latencyMs: 900, createdAt: at('2026-11-30T23:30:00Z') },
];

const NOW = new Date('2026-12-15T12:00:00Z');
let database: SqlDatabase;
let month: SavingsReport;

function options(overrides: Partial<SavingsReportOptions> = {}): SavingsReportOptions {
  return { ...reportSettingsOf(config), now: NOW, ...overrides };
}
const target = (report: SavingsReport, name: string) => report.targets.find((entry) => entry.name === name)!;

beforeAll(async () => {
  database = await openPgliteDatabase({ inMemory: true });
  await new SqlRowSink(database).insert(ROWS.map((row) => toLoggedInference(row, { kind: 'full' })));
  month = await buildSavingsReport(database, options());
});
afterAll(async () => {
  await database.close();
});

describe('the month in UTC', () => {
  it('counts the month’s requests, not November’s', () => {
    expect(month.period).toMatchObject({ kind: 'month', start: '2026-12-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z', time_zone: 'UTC' });
    expect(month.requests).toBe(9);
    expect(month.chat_requests).toBe(6);
    expect(month.answered_chat_requests).toBe(5);
  });

  it('sums every attempt’s cost and prices chat requests at the baseline model to the cent', () => {
    expect(month.spend_usd).toBeCloseTo(0.02192, 10);
    // Chat tokens 7000 in / 3500 out on Claude: $0.0735; the embedding keeps its own $0.0001.
    expect(month.counterfactual_usd).toBeCloseTo(0.0736, 10);
    expect(month.savings_usd).toBeCloseTo(0.05168, 10);
    expect(month.savings_pct).toBeCloseTo((100 * 0.05168) / 0.0736, 8);
  });

  it('judges local share, cost, quality, latency and failures against the targets', () => {
    expect(month.local_share).toBeCloseTo(3 / 5);
    expect(month.cache_share).toBeCloseTo(1 / 5);
    expect(month.cost_per_request_usd).toBeCloseTo(0.02182 / 6, 10);
    expect(month.quality_mean).toBeCloseTo(0.85, 6);
    expect(month.quality_scored).toBe(2);
    // Served chat latencies 10, 400, 600, 2000 (800 + 1200), 3000 ms.
    expect(month.latency_p50_ms).toBeCloseTo(600, 6);
    expect(month.latency_p95_ms).toBeCloseTo(2800, 6);
    expect(month.failures).toBe(1);
    expect(month.failure_rate).toBeCloseTo(1 / 9);
    expect(target(month, 'local_share')).toMatchObject({ target: 0.8, pass: false });
    expect(target(month, 'cost_per_request_usd')).toMatchObject({ target: 0.005, pass: true });
    expect(target(month, 'quality')).toMatchObject({ target: 0.75, pass: true });
    expect(target(month, 'latency_p95_ms')).toMatchObject({ target: 2000, pass: false });
    expect(target(month, 'failure_rate')).toMatchObject({ target: 0.01, pass: false });
  });

  it('projects the month-to-date spend over the whole month against the cap', () => {
    const projected = (0.02192 * 31) / 14.5;
    expect(month.budget.month_to_date_usd).toBeCloseTo(0.02192, 10);
    expect(month.budget.projected_month_end_usd).toBeCloseTo(projected, 8);
    expect(month.budget.pass).toBe(true);
    expect(target(month, 'projected_month_usd')).toMatchObject({ target: 200, pass: true });
  });

  it('lists models and tenants by cost, most expensive first', () => {
    expect(month.top_models.map((entry) => entry.model)).toEqual(['claude-3-5-sonnet-latest', 'deepseek-chat', 'text-embedding-3-small', 'local-llm']);
    expect(month.top_models[0]).toMatchObject({ attempts: 2, answers: 1 });
    expect(month.top_models[1]).toMatchObject({ model: 'deepseek-chat', attempts: 3, answers: 2 }); // the cache hit served its answer
    expect(month.top_tenants.map((entry) => entry.tenant)).toEqual([HOSTILE, 'beta', 'acme', null]);
    expect(month.top_tenants[1]?.cost_usd).toBeCloseTo(0.00082, 10);
  });
});

describe('periods and calendars', () => {
  it('a day holds only that day’s requests', async () => {
    const day = await buildSavingsReport(database, options({ period: 'day', now: new Date('2026-12-10T20:00:00Z') }));
    expect(day.requests).toBe(8); // not the embedding of the 9th
    expect(day.spend_usd).toBeCloseTo(0.02182, 10);
    expect(day.period.end).toBe('2026-12-11T00:00:00.000Z');
  });

  it('an ISO week starts on Monday', async () => {
    const week = await buildSavingsReport(database, options({ period: 'week', now: new Date('2026-12-10T20:00:00Z') }));
    expect(week.period.start).toBe('2026-12-07T00:00:00.000Z');
    expect(week.requests).toBe(9);
  });

  it('follows the budget’s time zone: Tokyo’s December starts nine hours earlier and holds the late November answer', async () => {
    const tokyo = await buildSavingsReport(database, options({ budget: { ...config.budget, time_zone: 'Asia/Tokyo' } }));
    expect(tokyo.period.start).toBe('2026-11-30T15:00:00.000Z');
    expect(tokyo.requests).toBe(10);
    expect(tokyo.spend_usd).toBeCloseTo(5.02192, 8);
  });

  it('an empty period has no rates to judge, and says so rather than claiming zero', async () => {
    const empty = await buildSavingsReport(database, options({ now: new Date('2027-02-10T00:00:00Z') }));
    expect(empty.requests).toBe(0);
    expect(empty.spend_usd).toBe(0);
    expect(empty.local_share).toBeNull();
    expect(empty.latency_p95_ms).toBeNull();
    expect(target(empty, 'failure_rate').pass).toBeNull();
    expect(empty.savings_pct).toBeNull();
  });

  it('without the baseline model configured there is no counterfactual', async () => {
    const report = await buildSavingsReport(database, options({ targets: { ...config.targets, baseline_model: 'gpt-9' } }));
    expect(report.counterfactual_usd).toBeNull();
    expect(report.savings_usd).toBeNull();
    expect(report.spend_usd).toBeCloseTo(0.02192, 10);
  });
});

describe('models the config no longer lists', () => {
  it('a local answer from a model since removed still counts as a local chat answer', async () => {
    const other = await openPgliteDatabase({ inMemory: true });
    try {
      const rows: InferenceRow[] = [
        { requestId: 'retired', attempt: 1, modelId: 'retired-llm', route: 'local', outcome: 'answered', costUsd: 0, promptTokens: 100, completionTokens: 50, latencyMs: 100, createdAt: at(DAY) },
        { requestId: 'vector', attempt: 1, modelId: 'text-embedding-3-small', route: 'openai', outcome: 'answered', costUsd: 0.00001, promptTokens: 500, completionTokens: 0, latencyMs: 30, createdAt: at(DAY) },
        { requestId: 'refused', attempt: 1, error: 'unauthenticated', latencyMs: 1, createdAt: at(DAY) },
      ];
      await new SqlRowSink(other).insert(rows.map((row) => toLoggedInference(row, { kind: 'full' })));
      const report = await buildSavingsReport(other, options());
      expect(report).toMatchObject({ requests: 3, chat_requests: 1, local_share: 1, failures: 0 });
    } finally {
      await other.close();
    }
  });
});

describe('renderings', () => {
  it('json parses back to the report, numbers as numbers', () => {
    const parsed = JSON.parse(renderReport(month, 'json'));
    expect(parsed.savings_pct).toBeCloseTo(month.savings_pct!, 8);
    expect(typeof parsed.spend_usd).toBe('number');
    expect(parsed.targets).toHaveLength(6);
    expect(parsed.targets[0]).toEqual({ name: 'local_share', value: 0.6, target: 0.8, direction: 'min', pass: false });
  });

  it('text is an aligned table with pass and fail marks', () => {
    const text = renderReport(month, 'text');
    expect(text).toMatch(/savings\s+\$0\.0517 \(70\.2%\)/);
    expect(text).toMatch(/local share\s+60\.0%\s+>= 80\.0%\s+FAIL/);
    expect(text).toMatch(/cost per request\s+\$0\.00364\s+<= \$0\.005\s+pass/);
    expect(text).toMatch(/latency p95\s+2800 ms\s+<= 2000 ms\s+FAIL/);
  });

  it('md is a table per section', () => {
    const md = renderReport(month, 'md');
    const lines = md.split('\n');
    const header = lines.findIndex((line) => line.startsWith('| target'));
    expect(header).toBeGreaterThan(-1);
    expect(lines[header + 1]).toMatch(/^\|( ?-+:? ?\|)+$/);
    expect(lines.filter((line) => line.startsWith('| local share'))).toHaveLength(1);
  });

  it('html is one page with every value escaped', () => {
    const html = renderReport(month, 'html');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(html).not.toMatch(/<link|src=/);
  });
});

describe('shadow sampling’s spend', () => {
  /** The fixture month with two shadow calls this December ($0.0042 + $0.0008) and one in November ($1). */
  async function withShadowLabels(): Promise<{ report: SavingsReport; database: SqlDatabase }> {
    const other = await openPgliteDatabase({ inMemory: true });
    await new SqlRowSink(other).insert(ROWS.map((row) => toLoggedInference(row, { kind: 'full' })));
    const labels = new SqlShadowLabelStore(other);
    const shadows = [
      { requestId: 'local-1', costUsd: 0.0042, at: at(DAY, 500) },
      { requestId: 'local-2', costUsd: 0.0008, at: at(DAY, 1500) },
      { requestId: 'november', costUsd: 1, at: at('2026-11-30T23:40:00Z') },
    ];
    for (const shadow of shadows) {
      await labels.save({ requestId: shadow.requestId, tier: 'simple', localModel: 'local-llm', premiumModel: 'claude-3-5-sonnet-latest', costUsd: shadow.costUsd, agreement: 0.7 });
      await other.query('update shadow_labels set created_at = $1 where request_id = $2', [shadow.at.toISOString(), shadow.requestId]);
    }
    return { report: await buildSavingsReport(other, options()), database: other };
  }

  it('is its own figure, counts in the spend and the month to date, and lowers the savings', async () => {
    const { report, database: other } = await withShadowLabels();
    try {
      expect(report.shadow_spend_usd).toBeCloseTo(0.005, 10);
      expect(report.spend_usd).toBeCloseTo(0.02192 + 0.005, 10);
      expect(report.counterfactual_usd).toBeCloseTo(0.0736, 10);
      expect(report.savings_usd).toBeCloseTo(0.0736 - 0.02692, 10);
      expect(report.budget.month_to_date_usd).toBeCloseTo(0.02692, 10);
      // Shadow calls answer no caller: the cost per chat request stays the requests’ own.
      expect(report.cost_per_request_usd).toBeCloseTo(0.02182 / 6, 10);
      expect(JSON.parse(renderReport(report, 'json')).shadow_spend_usd).toBeCloseTo(0.005, 10);
      expect(renderReport(report, 'text')).toMatch(/shadow spend\s+\$0\.005 \(shadow sampling, in the spend\)/);
      expect(renderReport(report, 'md')).toMatch(/\| shadow spend \| \$0\.005 /);
      expect(renderReport(report, 'html')).toMatch(/shadow spend<\/t[hd]>\s*<td>\$0\.005/);
    } finally {
      await other.close();
    }
  });

  it('is zero, not missing, without shadow labels', () => {
    expect(month.shadow_spend_usd).toBe(0);
  });
});
