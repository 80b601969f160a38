/**
 * Shadow sampling end to end: the real local model (SmolLM2 on llama.cpp) answers, and the same
 * request then goes, in the background, to the premium model (the loopback OpenAI fake); both
 * answers are scored by the real quality scorer and stored as a shadow label in a real PGlite,
 * the premium call charged to the budget. With a shadow cap too small for one call, nothing is
 * sent and nothing is charged.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import type { SluiceStore } from '../../src/store/open-store.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { LOCAL, startLocalModelGateway } from '../support/local-model-gateway.js';

interface Running {
  gateway: Gateway;
  store: SluiceStore;
  vendor: FakeOpenAI;
  client: OpenAI;
  origin: string;
}

async function start(shadow: Record<string, unknown>): Promise<Running> {
  const vendor = await startFakeOpenAI();
  const started = await startLocalModelGateway({
    vendor,
    vendorModels: [{ id: 'gpt-4o', capabilities: ['chat', 'stream'], price: { input_per_1m: 2.5, output_per_1m: 10 } }],
    localOptions: { default_max_tokens: 24 },
    config: { targets: { baseline_model: 'gpt-4o' }, learning: { shadow: { enabled: true, sample_rate: 1, ...shadow } } },
    withStore: true,
    dataDirPrefix: 'sluice-shadow-',
  });
  return { ...started, store: started.store!, vendor };
}

async function stop(running: Running | undefined): Promise<void> {
  await running?.gateway.close();
  await running?.vendor.close();
}

const ask = { model: LOCAL, messages: [{ role: 'user' as const, content: 'Name three colours of the rainbow.' }], max_tokens: 24, temperature: 0 };

function sample(metrics: string, pattern: RegExp): number {
  const match = pattern.exec(metrics);
  return match ? Number(match[1]) : 0;
}

describe('shadow sampling with room in the budget', () => {
  let running: Running;
  beforeAll(async () => {
    running = await start({ max_monthly_usd: 1 });
  }, 180_000);
  afterAll(() => stop(running));

  it('a local answer is also sent to the premium model after the response; both are scored, labelled and the cost charged', async () => {
    const { data, response } = await running.client.chat.completions.create(ask).withResponse();
    const requestId = response.headers.get('x-sluice-request-id')!;
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(response.headers.get('x-sluice-cost-usd')).toBe('0'); // the client pays nothing for the shadow
    const rows = await vi.waitFor(
      async () => {
        const { rows } = await running.store.database.query<{ local_model: string; local_score: number; premium_model: string; premium_score: number; cost: string; agreement: number }>(
          'select local_model, local_score, premium_model, premium_score, cost::text as cost, agreement from shadow_labels where request_id = $1',
          [requestId],
        );
        expect(rows).toHaveLength(1);
        return rows;
      },
      { timeout: 30_000, interval: 50 },
    );
    const [label] = rows;
    expect(label).toMatchObject({ local_model: LOCAL, premium_model: 'gpt-4o' });
    expect(label.local_score).toBeGreaterThanOrEqual(0);
    expect(label.local_score).toBeLessThanOrEqual(1);
    expect(label.premium_score).toBeGreaterThan(0.5); // the fake's plain answer passes the checks
    expect(label.agreement).toBeGreaterThanOrEqual(0);
    expect(label.agreement).toBeLessThanOrEqual(1);
    expect(Number(label.cost)).toBeGreaterThan(0);
    // The premium model got the caller's own conversation.
    const sent = running.vendor.requests.filter((request) => request.path.endsWith('/chat/completions'));
    expect(sent).toHaveLength(1);
    expect(JSON.stringify(sent[0].body)).toContain(ask.messages[0].content);
    expect(data.choices[0].message.content).not.toBe('');

    const metrics = await (await fetch(`${running.origin}/metrics`)).text();
    expect(sample(metrics, /sluice_shadow_samples_total\{outcome="labelled"\} (\d+)/)).toBe(1);
    expect(sample(metrics, /sluice_shadow_cost_usd_total\{model="gpt-4o"\} ([\d.e-]+)/)).toBeCloseTo(Number(label.cost), 8);
    expect(sample(metrics, /sluice_budget_usd\{scope="global",kind="spent"\} ([\d.e-]+)/)).toBeCloseTo(Number(label.cost), 6);
  }, 120_000);
});

describe('shadow sampling with a cap too small for one call', () => {
  let running: Running;
  beforeAll(async () => {
    running = await start({ max_monthly_usd: 0.000001 });
  }, 180_000);
  afterAll(() => stop(running));

  it('skips the shadow call: nothing sent, nothing charged, counted as skipped', async () => {
    const { response } = await running.client.chat.completions.create(ask).withResponse();
    expect(response.headers.get('x-sluice-route')).toBe('local');
    const metrics = await vi.waitFor(
      async () => {
        const text = await (await fetch(`${running.origin}/metrics`)).text();
        expect(sample(text, /sluice_shadow_samples_total\{outcome="skipped_budget"\} (\d+)/)).toBe(1);
        return text;
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(running.vendor.calls('/v1/chat/completions')).toBe(0);
    expect(sample(metrics, /sluice_budget_usd\{scope="global",kind="spent"\} ([\d.e-]+)/)).toBe(0);
    const { rows } = await running.store.database.query('select 1 from shadow_labels');
    expect(rows).toHaveLength(0);
  }, 120_000);
});
