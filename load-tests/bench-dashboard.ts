// The savings report and the dashboard on a log of 1M synthetic attempts: how long the report
// (month, week, day), the dashboard's data and the dashboard page (headless Chromium, login to
// every chart drawn) take. Writes docs/dashboard.png from the 1M-row gateway.
// Run: node --import tsx load-tests/bench-dashboard.ts [attempts]   (Postgres too when pgserver's binaries are found)
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { buildDashboardData } from '../src/dashboard/dashboard-data.js';
import { buildSavingsReport, reportSettingsOf, type ReportPeriod } from '../src/learning/savings-report.js';
import { openStore } from '../src/store/open-store.js';
import { openPostgresDatabase } from '../src/store/postgres-store.js';
import type { SqlDatabase } from '../src/store/sql-database.js';
import { startTestGateway } from '../test/support/gateway-harness.js';
import { findPostgresBin, startPostgresServer } from '../test/support/postgres-server.js';
import { insertSyntheticLog } from './synthetic-log.js';

const ATTEMPTS = Number(process.argv[2] ?? 1_000_000);
const RUNS = 3;
const MASTER_KEY = 'bench-master-key';
const PERIODS: readonly ReportPeriod[] = ['month', 'week', 'day'];

/**
 * The median of `RUNS` timed calls, after one untimed call (the first plans the queries). A call
 * that returns a number reports its own time (the part of it that is measured).
 */
async function medianMs(work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    const own = await work();
    times.push(typeof own === 'number' ? own : performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

/** Every attempt from the start of this UTC month to now: the month's report covers all of them. */
async function seed(database: SqlDatabase, now: Date): Promise<{ insertMs: number }> {
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const days = Math.max(1 / 24, (now.getTime() - monthStart) / 86_400_000 - 1 / 1440);
  const started = performance.now();
  await insertSyntheticLog(database, ATTEMPTS, now, days);
  return { insertMs: performance.now() - started };
}

interface Result {
  backend: string;
  figure: string;
  ms: number;
  limitMs: number;
}
const results: Result[] = [];

async function timeQueries(backend: string, database: SqlDatabase, settings: ReturnType<typeof reportSettingsOf>): Promise<void> {
  for (const period of PERIODS) {
    const report = await buildSavingsReport(database, { ...settings, period });
    if (period === 'month' && report.requests < ATTEMPTS * 0.85) throw new Error(`the month holds ${report.requests} requests; expected about ${ATTEMPTS * 0.9}`);
    results.push({ backend, figure: `report, ${period} (${report.requests} requests)`, ms: await medianMs(() => buildSavingsReport(database, { ...settings, period })), limitMs: 2_000 });
  }
  for (const period of PERIODS) {
    results.push({ backend, figure: `dashboard data, ${period}`, ms: await medianMs(() => buildDashboardData(database, { ...settings, period })), limitMs: 1_000 });
  }
}

const directory = await mkdtemp(join(tmpdir(), 'sluice-bench-dashboard-'));
try {
  const now = new Date();
  const dataDir = join(directory, 'pglite');
  const store = await openStore({ dataDir, inferenceLog: { flushIntervalMs: 60_000 } });
  const { insertMs } = await seed(store.database, now);
  console.log(`PGlite: ${ATTEMPTS} attempts inserted in ${(insertMs / 1000).toFixed(1)} s (one INSERT, the rollup triggers included)`);
  const gateway = await startTestGateway(
    (raw) => {
      raw.auth = { master_key: MASTER_KEY };
      raw.paths.data_dir = dataDir;
    },
    { inferenceLog: store.inferenceLog, store },
  );
  try {
    await timeQueries('PGlite 0.5.14 (worker thread, nodefs)', store.database, reportSettingsOf(gateway.config));
    results.push({ backend: 'PGlite, through the gateway', figure: 'GET /admin/dashboard/data?period=month', ms: await medianMs(async () => {
      const response = await fetch(`${gateway.origin}/admin/dashboard/data?period=month`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
      if (!response.ok) throw new Error(`dashboard data: ${response.status}`);
      await response.json();
    }), limitMs: 1_000 });
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1700 } });
      const loadMs = await medianMs(async () => {
        await page.goto(`${gateway.origin}/dashboard`);
        await page.evaluate((key) => sessionStorage.setItem('sluice.masterKey', key), MASTER_KEY);
        const started = performance.now();
        await page.reload();
        await page.waitForSelector('body[data-loaded-at]');
        await page.waitForFunction(() => document.querySelectorAll('.chart canvas').length === 9);
        return performance.now() - started;
      });
      results.push({ backend: 'PGlite, Chromium', figure: 'page load: navigation to every chart drawn (day)', ms: loadMs, limitMs: 2_000 });
      await page.screenshot({ path: 'docs/dashboard.png', fullPage: true });
    } finally {
      await browser.close();
    }
  } finally {
    await gateway.close();
  }

  if (findPostgresBin() !== undefined) {
    const server = await startPostgresServer();
    const postgres = await openPostgresDatabase({ connectionString: server.url });
    try {
      const { insertMs: postgresInsertMs } = await seed(postgres, now);
      console.log(`Postgres: ${ATTEMPTS} attempts inserted in ${(postgresInsertMs / 1000).toFixed(1)} s`);
      await timeQueries('PostgreSQL 16 (pgserver, loopback)', postgres, reportSettingsOf(gateway.config));
    } finally {
      await postgres.close();
      await server.destroy();
    }
  }
} finally {
  await rm(directory, { recursive: true, force: true });
}

const cpu = cpus();
console.log(`Machine: ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}; ${ATTEMPTS} attempts; median of ${RUNS}`);
console.log('');
console.log('| backend | figure | ms | limit | |');
console.log('| --- | --- | ---: | ---: | --- |');
for (const result of results) {
  console.log(`| ${result.backend} | ${result.figure} | ${Math.round(result.ms)} | ${result.limitMs} | ${result.ms <= result.limitMs ? 'ok' : 'OVER'} |`);
}
if (results.some((result) => result.ms > result.limitMs)) process.exitCode = 1;
