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
