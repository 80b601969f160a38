/**
 * A paid model whose reservation does not fit the budget is not called: the free local model of
 * the routing plan answers instead and says why (`x-sluice-route-reason: budget`); with
 * `on_exceeded: refuse`, the caller gets 429 budget_exceeded. Real SmolLM2 weights.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { LOCAL, startLocalModelGateway } from '../support/local-model-gateway.js';

let vendor: FakeOpenAI;
const gateways: Gateway[] = [];

async function start(onExceeded: 'local' | 'refuse'): Promise<OpenAI> {
  const started = await startLocalModelGateway({
    vendor,
    vendorModels: [{ id: 'gpt-4o', capabilities: ['chat', 'stream'], price: { input_per_1m: 2.5, output_per_1m: 10 } }],
    config: { routing: { tiers: { simple: [LOCAL] } }, budget: { monthly_usd: 0.00001, on_exceeded: onExceeded } },
    dataDirPrefix: 'sluice-budget-local-',
  });
  gateways.push(started.gateway);
  return started.client;
}

beforeAll(async () => {
  vendor = await startFakeOpenAI();
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await vendor?.close();
});

const ask = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Say hello.' }], max_tokens: 8, temperature: 0 };

describe('budget exhausted', () => {
  it('routes to the local model instead of calling the vendor', async () => {
    const client = await start('local');
    const before = vendor.calls('/v1/chat/completions');
    const { data, response } = await client.chat.completions.create(ask).withResponse();
    expect(vendor.calls('/v1/chat/completions')).toBe(before);
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(response.headers.get('x-sluice-model')).toBe(LOCAL);
    expect(response.headers.get('x-sluice-route-reason')).toBe('budget');
    expect(data.choices[0].message.content?.length).toBeGreaterThan(0);
  }, 120_000);

  it('or refuses with 429 budget_exceeded and retry-after, when the policy says so', async () => {
    const client = await start('refuse');
    const before = vendor.calls('/v1/chat/completions');
    const error = await client.chat.completions.create(ask).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    expect(Number(error.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(vendor.calls('/v1/chat/completions')).toBe(before);
  }, 120_000);
});
