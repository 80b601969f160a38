/**
 * A paid model whose reservation does not fit the budget is not called: the free local model of
 * the routing plan answers instead and says why (`x-sluice-route-reason: budget`); with
 * `on_exceeded: refuse`, the caller gets 429 budget_exceeded. Real SmolLM2 weights.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';

const MODELS_DIR = resolve(process.env.SLUICE_MODELS_DIR ?? 'models');
const SMOLLM = 'chat/smollm2-135m-instruct-q4_1.gguf';

let vendor: FakeOpenAI;
const gateways: Gateway[] = [];

async function start(onExceeded: 'local' | 'refuse'): Promise<OpenAI> {
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    paths: { models_dir: MODELS_DIR, data_dir: mkdtempSync(join(tmpdir(), 'sluice-budget-local-')) },
    backends: {
      openai: { type: 'openai', base_url: vendor.url, api_key: vendor.apiKey },
      local: { type: 'llama-cpp', requires_key: false, options: { model: SMOLLM, parallel: 1, context_size: 1024 } },
    },
    models: [
      { id: 'gpt-4o', backend: 'openai', capabilities: ['chat', 'stream'], price: { input_per_1m: 2.5, output_per_1m: 10 } },
      { id: 'smollm2-135m-instruct', backend: 'local', capabilities: ['chat', 'stream'] },
    ],
    routing: { tiers: { simple: ['smollm2-135m-instruct'] } },
    budget: { monthly_usd: 0.00001, on_exceeded: onExceeded },
    cache: { enabled: false }, // repeats must meet the budget, not a cached answer
  });
  const gateway = buildGateway(config, pino({ level: 'silent' }));
  gateways.push(gateway);
  await gateway.ready;
  const server = await gateway.listen(0, '127.0.0.1');
  return new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`, apiKey: 'unused', maxRetries: 0 });
}

beforeAll(async () => {
  if (!existsSync(join(MODELS_DIR, SMOLLM))) throw new Error(`no ${SMOLLM} under ${MODELS_DIR}: run make setup`);
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
    expect(response.headers.get('x-sluice-model')).toBe('smollm2-135m-instruct');
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
