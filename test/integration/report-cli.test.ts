import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import type { SavingsReport } from '../../src/learning/savings-report.js';
import { toLoggedInference, type InferenceRow } from '../../src/store/inference-log.js';
import { openStore } from '../../src/store/open-store.js';
import { openPgliteDatabase } from '../../src/store/pglite-store.js';
import { SqlRowSink } from '../../src/store/sql-row-sink.js';
import { startFakePostgrest, type FakePostgrest } from '../fakes/fake-postgrest.js';
import { startTestGateway, testModels, type TestGateway } from '../support/gateway-harness.js';

const MASTER_KEY = 'master-key-for-reports';
const temporary = mkdtempSync(join(tmpdir(), 'sluice-report-'));
let counter = 0;
const freshDir = () => join(temporary, `dir-${++counter}`);

/** runCli in this process, with its output captured. */
async function sluice(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    readStdin: async () => '',
  });
  return { code, stdout, stderr };
}

/** A config file for the CLI: the harness's models and prices, this data dir, this port. */
function configFile(dataDir: string, port: number, extra: Record<string, unknown> = {}): string {
  const path = join(temporary, `sluice-${++counter}.json`); // JSON is YAML
  const backends = Object.fromEntries(['openai', 'openai-impatient', 'deepseek', 'anthropic'].map((id) => [id, { type: id === 'anthropic' ? 'anthropic' : 'openai', requires_key: false }]));
  writeFileSync(path, JSON.stringify({ server: { host: '127.0.0.1', port }, paths: { data_dir: dataDir }, backends, models: testModels(), ...extra }));
  return path;
}

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const now = () => new Date(Date.now() - 1000);

describe('sluice report on a data directory', () => {
  const dataDir = freshDir();
  let config: string;

  beforeAll(async () => {
    const database = await openPgliteDatabase({ dataDir });
    const rows: InferenceRow[] = [
      { requestId: 'a', tenant: 'ops', modelId: 'deepseek-chat', route: 'deepseek', outcome: 'answered', costUsd: 0.00082, promptTokens: 1000, completionTokens: 500, latencyMs: 700, createdAt: now() },
      { requestId: 'b', tenant: 'ops', modelId: 'gpt-4o-mini', route: 'openai', outcome: 'answered', costUsd: 0.00045, promptTokens: 1000, completionTokens: 500, latencyMs: 300, createdAt: now() },
      { requestId: 'c', tenant: 'web', modelId: 'only-503', route: 'openai', outcome: 'failed', error: 'upstream-unavailable', latencyMs: 20, createdAt: now() },
    ];
    await new SqlRowSink(database).insert(rows.map((row) => toLoggedInference(row, { kind: 'full' })));
    await database.close();
    config = configFile(dataDir, await closedPort());
  });

  it('--format json: the figures of the rows, as numbers', async () => {
    const run = await sluice(['report', '--format', 'json', '--config', config]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as SavingsReport;
    expect(report).toMatchObject({ requests: 3, chat_requests: 3, answered_chat_requests: 2, failures: 1, local_share: 0 });
    expect(report.spend_usd).toBeCloseTo(0.00127, 10);
    // Both answers on Claude: 2 × (1000 × 3 + 500 × 15) per million.
    expect(report.counterfactual_usd).toBeCloseTo(0.021, 10);
    expect(report.savings_pct).toBeCloseTo((100 * (0.021 - 0.00127)) / 0.021, 6);
    expect(report.failure_rate).toBeCloseTo(1 / 3);
    expect(report.top_tenants.map((entry) => entry.tenant)).toEqual(['ops', 'web']);
  });

  it('text by default: a table with the targets marked', async () => {
    const run = await sluice(['report', '--period', 'day', '--config', config]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Sluice savings report: day /);
    expect(run.stdout).toMatch(/failure rate\s+33\.3%\s+<= 1\.0%\s+FAIL/);
    expect(run.stdout).toMatch(/local share\s+0\.0%\s+>= 80\.0%\s+FAIL/);
  });

  it('refuses a period or format it does not know, with a usage error', async () => {
    const run = await sluice(['report', '--period', 'year', '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--period must be one of day, week, month');
  });

  it('says so when nothing was ever logged in the data directory', async () => {
    const run = await sluice(['report', '--config', configFile(freshDir(), await closedPort())]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no embedded database under .*nothing has been logged/);
  });
});

describe('GET /admin/report and sluice report --url', () => {
  const dataDir = freshDir();
  let gateway: TestGateway;
  let tenantKey: string;
  const sent = { costUsd: 0, baselineUsd: 0 };

  /** `null`: no authorization header at all. */
  const admin = (path: string, key: string | null = MASTER_KEY) => fetch(`${gateway.origin}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    const store = await openStore({ dataDir, inferenceLog: { flushIntervalMs: 60_000 } });
    gateway = await startTestGateway(
      (raw) => {
        raw.auth = { master_key: MASTER_KEY };
        raw.paths.data_dir = dataDir;
      },
      { inferenceLog: store.inferenceLog, store },
    );
    const created = await fetch(`${gateway.origin}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'team-a' }),
    });
    tenantKey = ((await created.json()) as { key: string }).key;
    for (const model of ['deepseek-chat', 'deepseek-chat', 'claude-3-5-sonnet-latest', 'only-503']) {
      const response = await fetch(`${gateway.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenantKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: `What is the capital of France? (${model})` }] }),
      });
      const body = (await response.json()) as { usage?: { prompt_tokens: number; completion_tokens: number } };
      sent.costUsd += Number(response.headers.get('x-sluice-cost-usd') ?? 0);
      if (body.usage) sent.baselineUsd += (body.usage.prompt_tokens * 3 + body.usage.completion_tokens * 15) / 1_000_000;
    }
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('needs the master key', async () => {
    expect((await admin('/admin/report', null)).status).toBe(401);
    expect((await admin('/admin/report', tenantKey)).status).toBe(401);
  });

  it('reports the requests that went through the gateway', async () => {
    const response = await admin('/admin/report?period=day');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const report = (await response.json()) as SavingsReport;
    expect(report).toMatchObject({ requests: 4, chat_requests: 4, answered_chat_requests: 3, failures: 1, local_share: 0 });
    expect(sent.costUsd).toBeGreaterThan(0);
    expect(report.spend_usd).toBeCloseTo(sent.costUsd, 8);
    expect(report.counterfactual_usd).toBeCloseTo(sent.baselineUsd, 10);
    expect(report.top_tenants[0]).toMatchObject({ tenant: 'team-a', requests: 4 });
    expect(report.top_models[0]?.model).toBe('claude-3-5-sonnet-latest');
    expect(report.latency_p95_ms).toBeGreaterThan(0);
  });

  it('serves the HTML page self-contained, and refuses an unknown format', async () => {
    const html = await admin('/admin/report?format=html');
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await html.text()).toContain('team-a');
    const bad = await admin('/admin/report?format=pdf');
    expect(bad.status).toBe(400);
  });

  it('sluice report --url asks the gateway with SLUICE_MASTER_KEY', async () => {
    const config = configFile(freshDir(), await closedPort());
    const run = await sluice(['report', '--url', gateway.baseURL, '--format', 'json', '--config', config], { SLUICE_MASTER_KEY: MASTER_KEY });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as SavingsReport).requests).toBe(4);
    const wrong = await sluice(['report', '--url', gateway.origin, '--config', config], { SLUICE_MASTER_KEY: 'not-the-master-key' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/answered 401: the admin API needs the master key/);
  });

  it('never opens the embedded database a running gateway holds: it asks the gateway, or refuses', async () => {
    const port = Number(new URL(gateway.origin).port);
    const config = configFile(dataDir, port);
    const refused = await sluice(['report', '--config', config]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/has the embedded database .* open, and PGlite cannot be opened by a second process/);
    const asked = await sluice(['report', '--format', 'json', '--config', config], { SLUICE_MASTER_KEY: MASTER_KEY });
    expect(asked.code).toBe(0);
    expect(asked.stderr).toMatch(/a gateway runs at http:\/\/127\.0\.0\.1:\d+; asking it/);
    expect((JSON.parse(asked.stdout) as SavingsReport).requests).toBe(4);
  });
});

describe('without a SQL database (supabase-js)', () => {
  let postgrest: FakePostgrest;
  let gateway: TestGateway;

  beforeAll(async () => {
    postgrest = await startFakePostgrest();
    const dataDir = freshDir();
    const store = await openStore({ dataDir, supabaseUrl: postgrest.url, supabaseKey: postgrest.key });
    gateway = await startTestGateway((raw) => (raw.auth = { master_key: MASTER_KEY }), { inferenceLog: store.inferenceLog, store });
  });
  afterAll(async () => {
    await gateway.close();
    await postgrest.close();
  });

  it('the route answers 501 and the CLI says what to set', async () => {
    const response = await fetch(`${gateway.origin}/admin/report`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    expect(response.status).toBe(501);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/DATABASE_URL/);
    const config = configFile(freshDir(), await closedPort(), { storage: { supabase_url: postgrest.url, supabase_service_role_key: postgrest.key } });
    const run = await sluice(['report', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/supabase-js store has no SQL access.*DATABASE_URL/);
  });
});

describe('an admin API without a master key', () => {
  it('is not there: 404', async () => {
    const gateway = await startTestGateway();
    try {
      expect((await fetch(`${gateway.origin}/admin/report`)).status).toBe(404);
    } finally {
      await gateway.close();
    }
  });
});
