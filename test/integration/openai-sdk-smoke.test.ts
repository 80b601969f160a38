import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let sluice: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  sluice = await startTestGateway();
  client = new OpenAI({ baseURL: sluice.baseURL, apiKey: sluice.apiKey, maxRetries: 0 });
});
afterAll(() => sluice.close());

describe('smoke', () => {
  it('answers a chat through the OpenAI fake', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }] })
      .withResponse();
    expect(data.choices[0].message.content).toBe('You said: hello there');
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(response.headers.get('x-sluice-model')).toBe('gpt-4o');
    expect(Number(response.headers.get('x-sluice-cost-usd'))).toBeGreaterThan(0);
  });

  it('streams', async () => {
    const stream = await client.chat.completions.create({ model: 'claude-3-5-sonnet-latest', messages: [{ role: 'user', content: 'hello there' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBeGreaterThan(0);
  });
});
