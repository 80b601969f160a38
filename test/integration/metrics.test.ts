import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let sluice: TestGateway;

beforeAll(async () => {
  sluice = await startTestGateway();
});
afterAll(() => sluice.close());

function sample(metrics: string, pattern: RegExp): number {
  const match = pattern.exec(metrics);
  if (!match) throw new Error(`no sample matching ${pattern}`);
  return Number(match[1]);
}

describe('/metrics', () => {
  it('counts requests, tokens, cost, fallbacks, overhead and local share in Prometheus format', async () => {
    const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: 'unused', maxRetries: 0 });
    const data = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'count me' }] });
    await client.chat.completions.create({ model: 'flaky-503', messages: [{ role: 'user', content: 'and me' }] });
    await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);

    const response = await fetch(`${sluice.origin}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const metrics = await response.text();
    expect(sample(metrics, /sluice_requests_total\{endpoint="chat",route="openai",model="gpt-4o",tier="none",status="200"\} (\d+)/)).toBe(1);
    expect(sample(metrics, /sluice_requests_total\{endpoint="chat",route="none",model="none",tier="none",status="404"\} (\d+)/)).toBe(1);
    expect(sample(metrics, /sluice_tokens_total\{route="openai",model="gpt-4o",direction="output"\} (\d+)/)).toBe(data.usage!.completion_tokens);
    expect(sample(metrics, /sluice_cost_usd_total\{route="openai",model="gpt-4o"\} ([\d.e-]+)/)).toBeGreaterThan(0);
    expect(sample(metrics, /sluice_fallbacks_total\{model="flaky-503",kind="upstream-unavailable"\} (\d+)/)).toBe(1);
    expect(sample(metrics, /sluice_gateway_overhead_seconds_count\{endpoint="chat"\} (\d+)/)).toBe(2);
    expect(sample(metrics, /sluice_local_share (\d+)/)).toBe(0); // both answers came from vendors
    expect(metrics).toMatch(/sluice_budget_usd\{scope="global",kind="cap"\} 200/);
  });
});
