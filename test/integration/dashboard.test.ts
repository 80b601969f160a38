import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { DashboardData } from '../../src/dashboard/dashboard-data.js';
import { configSettings } from '../../src/learning/optimizer-job.js';
import type { Proposal } from '../../src/learning/optimizer.js';
import { ProposalStore } from '../../src/learning/proposal-store.js';
import { toLoggedInference, type InferenceRow } from '../../src/store/inference-log.js';
import { openStore, type SluiceStore } from '../../src/store/open-store.js';
import { SqlShadowLabelStore } from '../../src/store/feedback-store.js';
import { SqlRowSink } from '../../src/store/sql-row-sink.js';
import { openPgliteDatabase } from '../../src/store/pglite-store.js';
import { openPostgresDatabase } from '../../src/store/postgres-store.js';
import type { SqlDatabase } from '../../src/store/sql-database.js';
import { buildDashboardData } from '../../src/dashboard/dashboard-data.js';
import { buildSavingsReport, reportSettingsOf } from '../../src/learning/savings-report.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

const MASTER_KEY = 'master-key-for-the-dashboard';
const temporary = mkdtempSync(join(tmpdir(), 'sluice-dashboard-'));

/** `null`: no authorization header at all. */
const get = (gateway: TestGateway, path: string, key: string | null = MASTER_KEY) => fetch(`${gateway.origin}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
const dataOf = async (gateway: TestGateway, period = 'day') => {
  const response = await get(gateway, `/admin/dashboard/data?period=${period}`);
  expect(response.status).toBe(200);
  return (await response.json()) as DashboardData;
};
/** The index of the slot holding `moment`. */
const slotOf = (data: DashboardData, moment: Date) => data.series.time.findIndex((start) => start <= moment.getTime() / 1000 && moment.getTime() / 1000 < start + data.period.slot_seconds);

async function gatewayWithStore(name: string, patch: (raw: Record<string, any>) => void = () => {}): Promise<{ gateway: TestGateway; store: SluiceStore; dataDir: string }> {
  const dataDir = join(temporary, name);
  const store = await openStore({ dataDir, inferenceLog: { flushIntervalMs: 60_000 } });
  const gateway = await startTestGateway(
    (raw) => {
      raw.auth = { master_key: MASTER_KEY };
      raw.paths.data_dir = dataDir;
      patch(raw);
    },
    { inferenceLog: store.inferenceLog, store },
  );
  return { gateway, store, dataDir };
}

const at = new Date(Date.now() - 1000);
/**
 * Eight requests in one hour: two local answers, a cache hit, a local answer escalated to
 * DeepSeek, a Claude answer, one whose two vendors failed, a malformed request and one refused
 * by the rate limiter (neither of the last two is the gateway failing).
 */
const rows: InferenceRow[] = [
  { requestId: 'local-1', route: 'local', modelId: 'local-llm', outcome: 'answered', costUsd: 0, latencyMs: 400, qualityScore: 0.9 },
  { requestId: 'local-2', route: 'local', modelId: 'local-llm', outcome: 'answered', costUsd: 0, latencyMs: 600, qualityScore: 0.7 },
  { requestId: 'cached', route: 'cache', modelId: 'deepseek-chat', outcome: 'cache-hit', costUsd: 0, latencyMs: 10 },
  { requestId: 'escalated', route: 'local', modelId: 'local-llm', outcome: 'escalated', costUsd: 0, latencyMs: 800, qualityScore: 0.3 },
  { requestId: 'escalated', attempt: 2, route: 'deepseek', modelId: 'deepseek-chat', outcome: 'answered', costUsd: 0.00082, latencyMs: 1200, escalatedFrom: 'local-llm' },
  { requestId: 'vendor', route: 'anthropic', modelId: 'claude-3-5-sonnet-latest', outcome: 'answered', costUsd: 0.021, latencyMs: 3000 },
  { requestId: 'failed', route: 'deepseek', modelId: 'deepseek-chat', outcome: 'failed', error: 'upstream-unavailable', latencyMs: 100 },
  { requestId: 'failed', attempt: 2, route: 'anthropic', modelId: 'claude-3-5-sonnet-latest', outcome: 'failed', error: 'rate-limited', latencyMs: 5000 },
  { requestId: 'malformed', error: 'invalid-request', latencyMs: 2 },
  { requestId: 'throttled', error: 'rate-limited', latencyMs: 1 },
].map((row) => ({ attempt: 1, tenant: 'acme', ...row, createdAt: at }));

describe('GET /admin/dashboard/data on a seeded log', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    const started = await gatewayWithStore('seeded');
    gateway = started.gateway;
    await new SqlRowSink(started.store.database).insert(rows.map((row) => toLoggedInference(row, { kind: 'full' })));
    await new SqlShadowLabelStore(started.store.database).save({ requestId: 'local-1', tenant: 'acme', tier: 'simple', localModel: 'local-llm', localScore: 0.9, premiumModel: 'claude-3-5-sonnet-latest', premiumScore: 0.95, costUsd: 0.5, agreement: 0.8 });
    const proposals = new ProposalStore(started.dataDir, configSettings(gateway.config));
    proposals.save(proposal([{ setting: 'local_share', from: 0.8, to: 0.7, expected_cost_per_request_delta_usd: 0.001, expected_quality_delta: 0.02, reason: 'quality below target' }]));
    proposals.save(proposal([])); // nothing to change: not pending
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('needs the master key: no key, a tenant key and a wrong key are refused', async () => {
    const created = await fetch(`${gateway.origin}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'team-a' }) });
    const tenantKey = ((await created.json()) as { key: string }).key;
    for (const key of [null, tenantKey, 'not-the-key']) {
      const response = await get(gateway, '/admin/dashboard/data', key);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain('master key');
    }
    expect((await get(gateway, '/admin/dashboard/data?period=year')).status).toBe(400);
  });

  it('adds up to what the rows say', async () => {
    const data = await dataOf(gateway);
    expect(data.object).toBe('sluice.dashboard');
    expect(data.targets).toEqual({ local_share: 0.8, cost_per_request_usd: 0.005, quality: 0.75, latency_ms: 2000, failure_rate: 0.01 });
    const { totals } = data;
    expect(totals).toMatchObject({ requests: 8, served: 5, escalations: 1 });
    expect(totals.spend_usd).toBeCloseTo(0.02182, 12);
    expect(totals.cost_per_request_usd).toBeCloseTo(0.02182 / 8, 12);
    expect(totals.local_share).toBeCloseTo(3 / 5, 12); // two local answers and the cache hit, of five answers
    expect(totals.quality).toBeCloseTo(0.8, 6); // the served answers' scores; the escalated 0.3 is not one
    expect(totals.failure_rate).toBeCloseTo(1 / 8, 12);
    expect(totals.cache_hit_rate).toBeCloseTo(1 / 8, 12);
    // Five served latencies (10, 400, 600, 1200, 3000 ms): the 95th falls in the 3000–5000 ms bin, 3/4 into it.
    expect(totals.latency_p95_ms).toBeCloseTo(4500, 6);

    const slot = slotOf(data, at);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(data.series.requests[slot]).toBe(8);
    expect(data.series.requests.reduce<number>((sum, count) => sum + (count ?? 0), 0)).toBe(8);
    expect(data.series.requests.at(-1)).toBe(slot === data.series.time.length - 1 ? 8 : null); // a slot still to come is empty, not zero
    expect(data.series.local_share[slot]).toBeCloseTo(0.6, 12);
    expect(data.series.failure_rate[slot]).toBeCloseTo(0.125, 12);
    expect(data.series.escalations[slot]).toBe(1);
    expect(data.series.quality.filter((value) => value !== null)).toHaveLength(1);
    expect(Object.fromEntries(data.route_mix.map((route) => [route.route, route.answers[slot]]))).toEqual({ local: 2, cache: 1, deepseek: 1, anthropic: 1 });
    expect(data.route_mix[0]!.route).toBe('local');
  });

  it('shows the month against the budget, shadow calls included, and the pending proposal', async () => {
    const { budget, proposals, drift_alerts: alerts } = await dataOf(gateway, 'month');
    expect(budget.monthly_usd).toBe(gateway.config.budget.monthly_usd);
    expect(budget.month_to_date_usd).toBeCloseTo(0.52182, 12);
    const today = budget.days.time.findIndex((start) => start <= at.getTime() / 1000 && at.getTime() / 1000 < start + 86_400);
    expect(budget.days.cumulative_usd[today]).toBeCloseTo(0.52182, 12);
    expect(budget.days.cumulative_usd.slice(today + 1).every((value) => value === null)).toBe(true);
    const monthMs = Date.parse(budget.month_end) - Date.parse(budget.month_start);
    expect(budget.projected_month_end_usd).toBeGreaterThanOrEqual(budget.month_to_date_usd);
    expect(budget.projected_month_end_usd).toBeLessThanOrEqual((0.52182 * monthMs) / Math.max(1, Date.now() - 60_000 - Date.parse(budget.month_start)));
    expect(budget.ledger_spent_usd).toBe(0); // these rows never went through the ledger
    expect(proposals).toEqual([{ version: 1, created_at: '2026-12-01T00:00:00.000Z', changes: [{ setting: 'local_share', tier: null, from: 0.8, to: 0.7, reason: 'quality below target' }] }]);
    expect(alerts).toEqual([]);
  });

  it('serves the page with its bundled charting library and a self-only CSP', async () => {
    const page = await fetch(`${gateway.origin}/dashboard`);
    expect(page.status).toBe(200);
    const policy = page.headers.get('content-security-policy')!;
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<form id="login"');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/https?:\/\//); // nothing from another origin
    const uplot = await fetch(`${gateway.origin}/dashboard/assets/uplot.js`);
    expect(uplot.headers.get('content-type')).toMatch(/javascript/);
    expect(await uplot.text()).toContain('uPlot');
    expect((await fetch(`${gateway.origin}/dashboard/assets/missing.js`)).status).toBe(404);
  });
});

describe('the dashboard of a live gateway', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    ({ gateway } = await gatewayWithStore('live', (raw) => {
      raw.learning = { drift: { baseline_size: 10, window_size: 10, min_samples: 10, check_every_seconds: 3600 } };
    }));
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('counts requests answered a moment ago and lists the drift alert they raised', async () => {
    const client = new OpenAI({ baseURL: gateway.baseURL, apiKey: MASTER_KEY, maxRetries: 0 });
    for (let index = 0; index < 10; index += 1) await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `fine ${index}` }] });
    for (let index = 0; index < 10; index += 1) await client.chat.completions.create({ model: 'only-503', messages: [{ role: 'user', content: `down ${index}` }] }).catch(() => undefined);
    await expect.poll(() => gateway.gateway.drift!.check().find((verdict) => verdict.signal === 'error_rate')?.recentCount).toBe(10);

    const data = await dataOf(gateway);
    expect(data.totals).toMatchObject({ requests: 20, served: 10, failure_rate: 0.5, local_share: 0 });
    expect(data.route_mix.map((route) => route.route)).toEqual(['openai']);
    expect(data.totals.spend_usd).toBeGreaterThan(0);
    expect(data.drift_alerts).toEqual([expect.objectContaining({ signal: 'error_rate', at: expect.any(String) })]);
    expect(data.drift_alerts[0]!.score).toBeGreaterThan(4);
  });

  it('is off, page and data, without a master key', async () => {
    const open = await startTestGateway();
    try {
      expect((await fetch(`${open.origin}/dashboard`)).status).toBe(404);
      expect((await get(open, '/admin/dashboard/data')).status).toBe(404);
    } finally {
      await open.close();
    }
  });
});

describe.each(['pglite', 'postgres'] as const)('the rollups on %s, a request split across inserts', (backend) => {
  let server: PostgresServer | undefined;
  let database: SqlDatabase;
  const settings = reportSettingsOf(parseConfig({}));
  const attemptOf = (id: string, attempt = 1) => rows.find((row) => row.requestId === id && row.attempt === attempt)!;

  beforeAll(async () => {
    if (backend === 'postgres') {
      server = await startPostgresServer();
      database = await openPostgresDatabase({ connectionString: server.url });
    } else {
      database = await openPgliteDatabase({ inMemory: true });
    }
    const sink = new SqlRowSink(database);
    const insert = (batch: InferenceRow[]) => sink.insert(batch.map((row) => toLoggedInference(row, { kind: 'full' })));
    // The escalation's second attempt first (a replayed spill file), then its first, then the rest.
    await insert([attemptOf('escalated', 2), attemptOf('local-1')]);
    await insert([attemptOf('escalated', 1)]);
    await insert(rows.filter((row) => !['escalated', 'local-1'].includes(row.requestId)));
  });
  afterAll(async () => {
    await database.close();
    await server?.destroy();
  });

  it('the report adds up to what the log says, attempt by attempt', async () => {
    const report = await buildSavingsReport(database, { ...settings, period: 'day' });
    const { rows: byModel } = await database.query<{ model: string; cost_usd: number; attempts: number; answers: number }>(
      `select model_id as model, sum(cost)::float8 as cost_usd, count(*)::int as attempts, (count(*) filter (where outcome in ('answered', 'cache-hit')))::int as answers
         from model_inferences where model_id is not null group by 1 order by 2 desc, 3 desc, 1 limit 5`,
    );
    expect(report.top_models).toEqual(byModel);
    expect(report.top_models.find((entry) => entry.model === 'deepseek-chat')).toEqual({ model: 'deepseek-chat', cost_usd: 0.00082, attempts: 3, answers: 2 });
    expect(report.top_tenants).toEqual([{ tenant: 'acme', cost_usd: 0.02182, requests: 8 }]);
    expect(report).toMatchObject({ requests: 8, chat_requests: 6, answered_chat_requests: 5, failures: 1, quality_scored: 2 });
    expect(report.spend_usd).toBeCloseTo(0.02182, 12);
    expect(report.quality_mean).toBeCloseTo(0.8, 6);
    // Five served chat requests: 10, 400, 600, 1200 (both attempts logged at one instant: the later end) and 3000 ms.
    expect(report.latency_p50_ms).toBeCloseTo(600, 6);
    expect(report.latency_p95_ms).toBeCloseTo(1200 + 0.8 * 1800, 6);
    expect(report.budget.month_to_date_usd).toBeCloseTo(0.02182, 12);
  });

  it('the dashboard counts each attempt once', async () => {
    const { totals } = await buildDashboardData(database, { ...settings, period: 'day' });
    expect(totals).toMatchObject({ requests: 8, served: 5, escalations: 1 });
    expect(totals.spend_usd).toBeCloseTo(0.02182, 12);
    expect(totals.failure_rate).toBeCloseTo(1 / 8, 12);
  });
});

function proposal(changes: Proposal['changes']): Proposal {
  return {
    version: 0,
    created_at: '2026-12-01T00:00:00.000Z',
    window: { from: '2026-11-24T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', days: 7 },
    evidence: { requests: 100, vendor_cost_per_escalation_usd: 0.001, tiers: [], local_share: { current: 0.8, labelled_quality_at_proposed_thresholds: null, labels: 0 }, classifier: null },
    changes,
    not_done: [],
  };
}
