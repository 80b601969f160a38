/**
 * The caller's routing hints on a routed request: `x-sluice-max-cost-usd` leaves out candidates
 * that could cost more (a 400 naming the header when none is left), and a hint that is not one is
 * a 400, never silently ignored. (`x-sluice-route-hint` with a real local model: local-escalation.test.ts.)
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let sluice: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  sluice = await startTestGateway((raw) => {
    // Claude first, DeepSeek behind it: a cap between their prices picks DeepSeek.
    raw.routing.tiers = { simple: ['claude-3-5-sonnet-latest', 'deepseek-chat'], medium: ['claude-3-5-sonnet-latest', 'deepseek-chat'], high: ['claude-3-5-sonnet-latest', 'deepseek-chat'] };
  });
  client = new OpenAI({ baseURL: sluice.baseURL, apiKey: sluice.apiKey, maxRetries: 0 });
});
afterAll(() => sluice.close());

// 500 output tokens at most: Claude could cost $0.0075 (at $15 per million), DeepSeek $0.00055.
const ask = (headers: Record<string, string>, model = 'auto') =>
  client.chat.completions.create({ model, max_tokens: 500, messages: [{ role: 'user', content: 'What is the capital of Peru?' }] }, { headers }).withResponse();

describe('x-sluice-max-cost-usd', () => {
  it('without it the chain starts with Claude; with a cap below Claude’s worst case, DeepSeek answers', async () => {
    expect((await ask({})).response.headers.get('x-sluice-model')).toBe('claude-3-5-sonnet-latest');
    const claudeCalls = sluice.anthropic.requests.length;
    const { response } = await ask({ 'x-sluice-max-cost-usd': '0.005' });
    expect(response.headers.get('x-sluice-model')).toBe('deepseek-chat');
    expect(sluice.anthropic.requests.length).toBe(claudeCalls);
  });

  it('a cap no candidate fits is a 400 naming the header, and no vendor is called', async () => {
    const before = sluice.deepseek.requests.length + sluice.anthropic.requests.length;
    const error = await ask({ 'x-sluice-max-cost-usd': '0.0000001' }).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.error.param).toBe('x-sluice-max-cost-usd');
    expect(sluice.deepseek.requests.length + sluice.anthropic.requests.length).toBe(before);
  });

  it('applies to an explicit model too', async () => {
    const error = await ask({ 'x-sluice-max-cost-usd': '0.001' }, 'gpt-4o').catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((await ask({ 'x-sluice-max-cost-usd': '1' }, 'gpt-4o')).response.headers.get('x-sluice-model')).toBe('gpt-4o');
  });
});

describe('hints that are not hints', () => {
  it.each([
    [{ 'x-sluice-max-cost-usd': 'cheap' }, 'x-sluice-max-cost-usd'],
    [{ 'x-sluice-max-cost-usd': '-1' }, 'x-sluice-max-cost-usd'],
    [{ 'x-sluice-route-hint': 'fastest' }, 'x-sluice-route-hint'],
  ])('%o is a 400 naming the header', async (headers, param) => {
    const error = await ask(headers).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.error.param).toBe(param);
  });

  it('a routed request names the hint in its route reason', async () => {
    const { response } = await ask({ 'x-sluice-route-hint': 'vendor' });
    expect(response.headers.get('x-sluice-route-reason')).toMatch(/;hint:vendor$/);
  });
});
