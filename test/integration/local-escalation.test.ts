/**
 * Escalation end to end, with the real local model (SmolLM2 on llama.cpp), the real quality
 * checks and the real inference log: a local answer engineered to be bad — cut off by the
 * backend's own output cap, which the caller never asked for — is scored below the threshold and
 * the vendor's answer is served, both attempts logged; the same cut answer when the caller asked
 * for that cap is what was asked for, and is served as it is. Only the vendor is a loopback fake.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import type { SluiceStore } from '../../src/store/open-store.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai.js';
import { LOCAL, startLocalModelGateway } from '../support/local-model-gateway.js';

let vendor: FakeOpenAI;
let gateway: Gateway;
let store: SluiceStore;
let client: OpenAI;

beforeAll(async () => {
  vendor = await startFakeOpenAI();
  const started = await startLocalModelGateway({
    vendor,
    vendorModels: [{ id: 'gpt-4o-mini', capabilities: ['chat', 'stream'], price: { input_per_1m: 0.15, output_per_1m: 0.6 } }],
    // Four tokens at most: any answer of a sentence is cut off (`finish_reason: length`).
    localOptions: { default_max_tokens: 4 },
    config: { routing: { tiers: { simple: [LOCAL, 'gpt-4o-mini'], medium: [LOCAL, 'gpt-4o-mini'], high: [LOCAL, 'gpt-4o-mini'], creative: [LOCAL, 'gpt-4o-mini'], brand: [LOCAL, 'gpt-4o-mini'] } } },
    withStore: true,
    dataDirPrefix: 'sluice-escalation-',
  });
  ({ gateway, client } = started);
  store = started.store!;
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  await vendor?.close();
});

async function rowsOf(requestId: string, count: number) {
  return vi.waitFor(
    async () => {
      await store.inferenceLog.flush();
      const { rows } = await store.database.query<{ model_id: string; outcome: string; route: string }>(
        'select model_id, outcome, route from model_inferences where request_id = $1 order by attempt',
        [requestId],
      );
      expect(rows).toHaveLength(count);
      return rows;
    },
    { timeout: 5_000, interval: 50 },
  );
}

const question = { role: 'user' as const, content: 'Describe the sea in two sentences.' };

describe('a weak local answer escalates', () => {
  it('cut off by the backend, the local answer scores low and the vendor answers; both attempts are logged', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'auto', messages: [question], temperature: 0 }).withResponse();
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(response.headers.get('x-sluice-escalated-from')).toBe(LOCAL);
    expect(data.choices[0].message.content).toBe(`You said: ${question.content}`);
    const rows = await rowsOf(response.headers.get('x-sluice-request-id')!, 2);
    expect(rows.map((row) => [row.model_id, row.outcome, row.route])).toEqual([
      [LOCAL, 'escalated', 'local'],
      ['gpt-4o-mini', 'answered', 'openai'],
    ]);
  }, 120_000);

  it('x-sluice-route-hint: vendor skips the local model', async () => {
    const { response } = await client.chat.completions.create({ model: 'auto', messages: [question], temperature: 0 }, { headers: { 'x-sluice-route-hint': 'vendor' } }).withResponse();
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(response.headers.get('x-sluice-escalated-from')).toBeNull();
    await rowsOf(response.headers.get('x-sluice-request-id')!, 1);
  }, 120_000);

  it('cut off at the cap the caller asked for, the same local answer is served', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'auto', messages: [question], temperature: 0, max_tokens: 4 }).withResponse();
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(response.headers.get('x-sluice-escalated-from')).toBeNull();
    expect(Number(response.headers.get('x-sluice-quality'))).toBeGreaterThanOrEqual(0.75);
    expect(data.choices[0].finish_reason).toBe('length');
    await rowsOf(response.headers.get('x-sluice-request-id')!, 1);
  }, 120_000);
});
