/**
 * The k6 scripts (load-tests/k6/*.js) cannot run under k6 here (its licence keeps the binary off
 * this project's machines), so each one's default function — and setup/teardown — runs for a few
 * iterations against a live gateway on loopback fake vendors, through a stand-in for the k6 modules
 * (test/support/k6-shim). A failed check, an iteration that throws, a request with no response or
 * a threshold of the script's own `options` that the smoke's numbers break fails the test.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runK6Script } from '../support/k6-shim/run-k6-script.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

const MASTER_KEY = 'sk-master-k6-smoke';
const scriptsDir = join(import.meta.dirname, '../../load-tests/k6');

let sluice: TestGateway;
let env: Record<string, string>;

beforeAll(async () => {
  sluice = await startTestGateway((raw) => {
    raw.auth = { master_key: MASTER_KEY };
    raw.routing.tiers = { ...raw.routing.tiers, creative: ['claude-3-5-sonnet-latest'], brand: ['claude-3-5-sonnet-latest', 'gpt-4o'] };
  });
  const created = await fetch(`${sluice.origin}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'k6-smoke' }),
  });
  expect(created.status).toBe(201);
  const { key } = (await created.json()) as { key: string };
  env = { SLUICE_URL: sluice.origin, SLUICE_KEY: key, SLUICE_MASTER_KEY: MASTER_KEY, SLUICE_BUDGET_USD: '0.0001' };
});

afterAll(() => sluice?.close());

describe.each([
  { script: 'chat.js', iterations: 5 },
  { script: 'chat-stream.js', iterations: 5 },
  { script: 'embeddings.js', iterations: 5 },
  { script: 'mixed.js', iterations: 20 },
  { script: 'spike.js', iterations: 10 },
  { script: 'budget.js', iterations: 15 },
])('$script', ({ script, iterations }) => {
  it(`passes every check and threshold in ${iterations} iterations against a live gateway`, async () => {
    const result = await runK6Script(join(scriptsDir, script), { env, iterations });
    console.log(`[k6-smoke] ${script}: ${result.thresholds.map(({ metric, expression, observed }) => `${metric} ${expression} (${observed?.toFixed(3)})`).join(', ')}`);
    expect(result.iterationErrors).toEqual([]);
    expect(result.requestErrors).toEqual([]);
    expect(result.failedChecks).toEqual([]);
    expect(result.samples.metrics.iterations.values.length).toBe(iterations);
    expect(Object.keys(result.options.thresholds ?? {}).length).toBeGreaterThan(0);
    expect(result.options.scenarios).toBeDefined();
    expect(result.thresholds.filter((verdict) => !verdict.passed)).toEqual([]);
  }, 60_000);
});

describe('the smoke can fail', () => {
  it('reports the failed checks and the broken error-rate threshold of a script whose key is refused', async () => {
    const result = await runK6Script(join(scriptsDir, 'chat.js'), { env: { ...env, SLUICE_KEY: 'sk-not-a-key' }, iterations: 2 });
    expect(result.failedChecks).toContain('status is 200 (2 of 2)');
    expect(result.thresholds).toContainEqual({ metric: 'http_req_failed', expression: 'rate<0.01', observed: 1, passed: false });
  }, 60_000);

  it('reports a request that got no response', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runK6Script(join(scriptsDir, 'chat.js'), { env: { ...env, SLUICE_URL: `http://127.0.0.1:${port}` }, iterations: 1 });
    expect(result.requestErrors).toHaveLength(1);
    expect(result.requestErrors[0]).toMatch(new RegExp(`^POST http://127\\.0\\.0\\.1:${port}/v1/chat/completions: .*ECONNREFUSED`));
  }, 60_000);
});

describe('the scripts typecheck against @types/k6', () => {
  it('tsc -p load-tests/k6 finds no error', async () => {
    const tsc = join(import.meta.dirname, '../../node_modules/.bin/tsc');
    await expect(promisify(execFile)(tsc, ['-p', join(scriptsDir, 'tsconfig.json')])).resolves.toMatchObject({ stdout: '' });
  }, 60_000);
});
