/**
 * Routing under pressure (routing-policy.ts). Near the cap, routed requests shift to the local
 * model first and to the cheapest vendor next, before any reservation is refused
 * (budget.shift_at); while the local model's line is long, they go to a vendor first
 * (routing.max_local_wait_ms). Real SmolLM2 weights, the real in-process ledger, a fake OpenAI
 * server as the only vendor.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { LOCAL, startLocalModelGateway } from '../support/local-model-gateway.js';

let vendor: FakeOpenAI;
const gateways: Gateway[] = [];
let client: OpenAI;

async function start(overrides: { routing: Record<string, unknown>; budget: Record<string, unknown> }): Promise<OpenAI> {
  const started = await startLocalModelGateway({
    vendor,
    vendorModels: [
      { id: 'gpt-4o', capabilities: ['chat', 'stream'], price: { input_per_1m: 2.5, output_per_1m: 10 } },
      { id: 'gpt-4o-mini', capabilities: ['chat', 'stream'], price: { input_per_1m: 0.15, output_per_1m: 0.6 } },
    ],
    config: { routing: { classifier: 'rules', ...overrides.routing }, budget: overrides.budget },
    dataDirPrefix: 'sluice-routing-pressure-',
  });
  gateways.push(started.gateway);
  return started.client;
}

beforeAll(async () => {
  vendor = await startFakeOpenAI();
  client = await start({
    // Every tier goes to the vendors first; the local model is in the plan only for creative work.
    routing: { tiers: { simple: ['gpt-4o', 'gpt-4o-mini'], medium: ['gpt-4o', 'gpt-4o-mini'], high: ['gpt-4o', 'gpt-4o-mini'], creative: [LOCAL], brand: ['gpt-4o'] } },
    budget: { monthly_usd: 0.002, shift_at: 0.5, soft_thresholds: [0.5] },
  });
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await vendor?.close();
});

const ask = { model: 'auto', messages: [{ role: 'user' as const, content: 'What is the capital of Peru?' }], max_tokens: 8, temperature: 0 };

describe('budget shift', () => {
  it('routes auto to the vendor plan until half the cap is spent, then to the local model first, then the cheapest vendor when asked for a vendor', async () => {
    const first = await client.chat.completions.create(ask).withResponse();
    expect(first.response.headers.get('x-sluice-model')).toBe('gpt-4o');
    expect(first.response.headers.get('x-sluice-route-reason')).not.toContain('budget');

    // Each gpt-4o answer spends a little; the soft threshold at 0.5 refreshes routing's view of it.
    let shifted: typeof first | undefined;
    for (let call = 0; call < 40 && !shifted; call += 1) {
      const answer = await client.chat.completions.create(ask).withResponse();
      if (answer.response.headers.get('x-sluice-route') === 'local') shifted = answer;
      else expect(answer.response.headers.get('x-sluice-model')).toBe('gpt-4o');
      await sleep(20);
    }
    expect(shifted, 'no request went local as spend crossed half the cap').toBeDefined();
    expect(shifted!.response.headers.get('x-sluice-model')).toBe(LOCAL);
    expect(shifted!.response.headers.get('x-sluice-route-reason')).toMatch(/;budget:0\.\d\d$/);
    expect(shifted!.data.choices[0].message.content?.length).toBeGreaterThan(0);

    const vendorOnly = await client.chat.completions.create(ask, { headers: { 'x-sluice-route-hint': 'vendor' } }).withResponse();
    expect(vendorOnly.response.headers.get('x-sluice-model')).toBe('gpt-4o-mini');

    // An explicit model is honoured as asked while it fits.
    const explicit = await client.chat.completions.create({ ...ask, model: 'gpt-4o-mini' }).withResponse();
    expect(explicit.response.headers.get('x-sluice-model')).toBe('gpt-4o-mini');
  }, 120_000);
});

describe('a long local line', () => {
  it('sends routed requests to the vendor while the local model is busy, and back to it once it is free', async () => {
    const busy = await start({
      routing: { tiers: { simple: [LOCAL, 'gpt-4o-mini'] }, max_local_wait_ms: 0 },
      budget: { monthly_usd: 100 },
    });
    const story = { ...ask, messages: [{ role: 'user' as const, content: 'Write a story about a lighthouse.' }], max_tokens: 24 };
    const warm = await busy.chat.completions.create(story).withResponse(); // teaches the line how long a slot is held
    expect(warm.response.headers.get('x-sluice-route')).toBe('local');

    const generating = busy.chat.completions.create(story).withResponse();
    await sleep(50); // the one slot is taken
    const meanwhile = await busy.chat.completions.create(ask).withResponse();
    expect(meanwhile.response.headers.get('x-sluice-model')).toBe('gpt-4o-mini');
    expect(meanwhile.response.headers.get('x-sluice-route-reason')).toMatch(/;queue:\d+ms$/);
    expect((await generating).response.headers.get('x-sluice-route')).toBe('local');

    const after = await busy.chat.completions.create(ask).withResponse();
    expect(after.response.headers.get('x-sluice-route')).toBe('local');
  }, 240_000);
});
