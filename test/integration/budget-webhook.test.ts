import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let sluice: TestGateway;
const received: Record<string, unknown>[] = [];
const receiver = createServer(async (request: IncomingMessage, response) => {
  let body = '';
  for await (const part of request) body += part;
  received.push(JSON.parse(body));
  receiver.emit('delivered');
  response.end('ok');
});

beforeAll(async () => {
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const port = (receiver.address() as { port: number }).port;
  // gpt-4o at $2.50/$10 per 1M: each small call costs a few ten-thousandths of a dollar.
  sluice = await startTestGateway((raw) => {
    raw.budget = { monthly_usd: 0.001, soft_thresholds: [0.05], webhook_url: `http://127.0.0.1:${port}/hook`, default_output_tokens: 20 };
  });
});
afterAll(async () => {
  await sluice.close();
  receiver.close();
});

describe('soft budget thresholds', () => {
  it('crossing one POSTs the event to the webhook once, and counts it in /metrics', async () => {
    const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: 'unused', maxRetries: 0 });
    const delivered = once(receiver, 'delivered');
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'spend a little money please' }], max_tokens: 20 });
    await delivered;
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'and a little more' }], max_tokens: 20 });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ event: 'budget.threshold_crossed', scope: 'global', threshold: 0.05, cap_usd: 0.001 });
    expect(received[0].spent_usd as number).toBeGreaterThan(0.00005);
    const metrics = await (await fetch(`${sluice.origin}/metrics`)).text();
    expect(metrics).toMatch(/sluice_budget_threshold_crossings_total\{scope="global",threshold="0.05"\} 1/);
  });
});
