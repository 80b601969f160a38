import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let sluice: TestGateway;
const received: Record<string, unknown>[] = [];
const hook = createServer((request: IncomingMessage, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    received.push(JSON.parse(body));
    response.end();
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/drift`;
  sluice = await startTestGateway((raw) => {
    raw.learning = { drift: { baseline_size: 10, window_size: 10, min_samples: 10, check_every_seconds: 3600, webhook_url: url } };
  });
});
afterAll(async () => {
  await sluice.close();
  await new Promise((resolve) => hook.close(resolve));
});

describe('drift alerts', () => {
  it('a jump in the error rate shows on /metrics and reaches the webhook', async () => {
    const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: 'unused', maxRetries: 0 });
    for (let index = 0; index < 10; index += 1) await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `fine ${index}` }] });
    for (let index = 0; index < 10; index += 1) await client.chat.completions.create({ model: 'only-503', messages: [{ role: 'user', content: `down ${index}` }] }).catch(() => undefined);
    // The record of the last request is rendered when its socket closes: wait until the monitor has all 20.
    await expect.poll(() => sluice.gateway.drift!.check().find((verdict) => verdict.signal === 'error_rate')?.recentCount).toBe(10);

    const metrics = await (await fetch(`${sluice.origin}/metrics`)).text();
    expect(metrics).toMatch(/sluice_drift_alerts_total\{signal="error_rate"\} 1\b/);
    const score = Number(/sluice_drift_score\{signal="error_rate"\} ([\d.e+-]+)/.exec(metrics)?.[1]);
    expect(score).toBeGreaterThan(4); // 0 of 10 failed, then 10 of 10: |z| = √20
    await expect.poll(() => received.find((body) => body.signal === 'error_rate')).toMatchObject({ event: 'drift.detected', recent_count: 10 });
  });
});
