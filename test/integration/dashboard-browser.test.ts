import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertSyntheticLog } from '../../load-tests/synthetic-log.js';
import { openStore } from '../../src/store/open-store.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

const MASTER_KEY = 'master-key-for-the-browser';
/** SLUICE_SCREENSHOT=docs/dashboard.png keeps the screenshot for the README; otherwise it goes to a temp dir. */
const SCREENSHOT = process.env.SLUICE_SCREENSHOT ?? join(mkdtempSync(join(tmpdir(), 'sluice-dashboard-shot-')), 'dashboard.png');

let gateway: TestGateway;
let browser: Browser;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-browser-'));
  const store = await openStore({ dataDir, inferenceLog: { flushIntervalMs: 60_000 } });
  // Three days of traffic up to now: today's hours and the month's first days have points to draw.
  await insertSyntheticLog(store.database, 6_000, new Date(), 3);
  gateway = await startTestGateway(
    (raw) => {
      raw.auth = { master_key: MASTER_KEY };
      raw.paths.data_dir = dataDir;
    },
    { inferenceLog: store.inferenceLog, store },
  );
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

/** Per chart: how many of its canvas pixels are drawn, and how many of those in its first series' colour (#1f77b4 and the others). */
const CHART_COLOURS: Record<string, [number, number, number]> = {
  'chart-local_share': [31, 119, 180],
  'chart-cost_per_request_usd': [31, 119, 180],
  'chart-quality': [31, 119, 180],
  'chart-latency_p95_ms': [31, 119, 180],
  'chart-failure_rate': [31, 119, 180],
  'chart-budget': [31, 119, 180],
  'chart-routes': [31, 119, 180],
  'chart-cache_hit_rate': [44, 160, 44],
  'chart-escalations': [214, 39, 40],
};

describe('the dashboard in headless Chromium', () => {
  it('logs in through the form, draws every chart with data, logs no error and keeps the key out of URLs', { timeout: 90_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1700 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    const urls: string[] = [];
    page.on('request', (request) => urls.push(request.url()));

    await page.goto(`${gateway.origin}/dashboard`);
    await page.fill('#key', MASTER_KEY);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('body[data-loaded-at]');
    await page.waitForFunction((count) => document.querySelectorAll('.chart canvas').length >= count, Object.keys(CHART_COLOURS).length);

    const drawn = await page.evaluate((colours) => {
      const result: Record<string, { painted: number; series: number }> = {};
      for (const [id, [red, green, blue]] of Object.entries(colours)) {
        const canvas = document.querySelector<HTMLCanvasElement>(`#${id} canvas`)!;
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        let series = 0;
        for (let index = 0; index < pixels.length; index += 4) {
          if (pixels[index + 3]! === 0) continue;
          painted += 1;
          if (Math.abs(pixels[index]! - red) < 20 && Math.abs(pixels[index + 1]! - green) < 20 && Math.abs(pixels[index + 2]! - blue) < 20 && pixels[index + 3]! > 200) series += 1;
        }
        result[id] = { painted, series };
      }
      return result;
    }, CHART_COLOURS);
    for (const [id, counts] of Object.entries(drawn)) {
      expect(counts.painted, id).toBeGreaterThan(500);
      expect(counts.series, `${id}: the series' own colour`).toBeGreaterThan(20);
    }
    expect(await page.locator('#tiles .tile').count()).toBeGreaterThan(5);
    expect(await page.textContent('#proposals')).toContain('no pending proposals');

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
    expect(urls.length).toBeGreaterThan(4);
    expect(urls.filter((url) => url.includes(MASTER_KEY))).toEqual([]);
    expect(page.url()).toBe(`${gateway.origin}/dashboard`);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await page.close();
  });

  it('a wrong key goes back to the form', { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    await page.goto(`${gateway.origin}/dashboard`);
    await page.fill('#key', 'not-the-master-key');
    await page.click('#login button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).toContain('not the master key');
    expect(await page.isVisible('#dashboard')).toBe(false);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });
});
