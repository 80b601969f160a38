import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let sluice: TestGateway;

beforeAll(async () => {
  sluice = await startTestGateway();
});
afterAll(() => sluice.close());

describe('passthrough of paths Sluice does not implement', () => {
  it('streams an SSE answer through unchanged, with the upstream key swapped in', async () => {
    const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: 'sk-callers-own-key', maxRetries: 0 });
    const stream = await client.responses.create({ model: 'gpt-4o', input: 'say hello back', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types[0]).toBe('response.created');
    expect(types).toContain('response.output_text.delta');
    expect(types.at(-1)).toBe('response.completed');
    const upstream = sluice.openai.requests.filter((request) => request.path.endsWith('/responses')).at(-1)!;
    expect(upstream.headers.authorization).toBe(`Bearer ${sluice.openai.apiKey}`);
  });

  it('keeps the upstream status and error body', async () => {
    const response = await fetch(`${sluice.baseURL}/no-such-endpoint`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(response.headers.get('x-sluice-request-id')).toMatch(/^req_/);
    expect((await response.json()).error.message).toBeTruthy();
  });

  it('open mode (no keys configured) still forwards every path, with the upstream key', async () => {
    const before = sluice.openai.calls('/v1/fine_tuning/jobs');
    const response = await fetch(`${sluice.baseURL}/fine_tuning/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', training_file: 'file-abc' }),
    });
    expect(response.status).toBe(404); // the fake does not implement fine-tuning: its own 404, not Sluice's
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(sluice.openai.calls('/v1/fine_tuning/jobs')).toBe(before + 1);
    expect(sluice.openai.requests.at(-1)!.headers.authorization).toBe(`Bearer ${sluice.openai.apiKey}`);
  });

  it('open mode settles a priced call in the global budget from the answer’s usage', async () => {
    const spent = async () => {
      const text = await (await fetch(`${sluice.origin}/metrics`)).text();
      return Number(text.split('\n').find((line) => line.startsWith('sluice_budget_usd{scope="global",kind="spent"}'))?.split(' ').at(-1));
    };
    const before = await spent();
    const client = new OpenAI({ baseURL: sluice.baseURL, apiKey: 'sk-anything', maxRetries: 0 });
    const answer = await client.responses.create({ model: 'gpt-4o', input: Array.from({ length: 50 }, (_, index) => `word${index}`).join(' ') });
    const { input_tokens: input, output_tokens: output } = answer.usage!;
    const expected = Math.round(input * 2.5 + output * 10) / 1_000_000; // gpt-4o's test price, on the micro-dollar ledger
    expect(expected).toBeGreaterThan(0);
    expect(await spent()).toBeCloseTo(before + expected, 9);
  });

  it('open mode keeps the path and header rules: a dot segment is a 400, a caller’s organisation is dropped', async () => {
    const before = sluice.openai.requests.length;
    // fetch resolves `..` and `%2e%2e` itself; an encoded backslash it leaves for the server to misread.
    const dotted = await fetch(`${sluice.baseURL}/files/..%5c..%5cadmin%5ckeys`);
    expect(dotted.status).toBe(400);
    expect(sluice.openai.requests.length).toBe(before);
    const moderated = await fetch(`${sluice.baseURL}/moderations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'openai-organization': 'org-someone-else', cookie: 'a=b' },
      body: JSON.stringify({ input: 'hello' }),
    });
    expect(moderated.status).toBe(200);
    expect(moderated.headers.get('set-cookie')).toBeNull();
    const seen = sluice.openai.requests.at(-1)!;
    expect(seen.headers['openai-organization']).toBeUndefined();
    expect(seen.headers.cookie).toBeUndefined();
  });

  it('without an upstream key, answers a clear 404 in OpenAI shape', async () => {
    const bare = await startTestGateway((raw) => {
      delete raw.backends.openai.api_key; // as with no OPENAI_API_KEY: the backend is not a candidate
    });
    try {
      const response = await fetch(`${bare.baseURL}/files`);
      expect(response.status).toBe(404);
      expect((await response.json()).error.message).toMatch(/passthrough/);
    } finally {
      await bare.close();
    }
  });
});
