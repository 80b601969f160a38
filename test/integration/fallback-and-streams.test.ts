import http from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let sluice: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  sluice = await startTestGateway();
  client = new OpenAI({ baseURL: sluice.baseURL, apiKey: sluice.apiKey, maxRetries: 0 });
});
afterAll(() => sluice.close());

const ask = (model: string, content = 'hello there') => ({ model, messages: [{ role: 'user' as const, content }] });

/** Raw SSE frames of a streamed chat, as the client's socket saw them. */
async function rawStream(model: string): Promise<{ status: number; headers: Headers; frames: string[] }> {
  const response = await fetch(`${sluice.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sluice.apiKey}` },
    body: JSON.stringify({ ...ask(model, 'one two three four five'), stream: true }),
  });
  const text = await response.text();
  const frames = text.split('\n\n').filter(Boolean).map((frame) => frame.replace(/^data: /, ''));
  return { status: response.status, headers: response.headers, frames };
}

describe('fallback before the first byte', () => {
  it('a 503 moves to the next candidate, and the headers name the model that answered', async () => {
    const { data, response } = await client.chat.completions.create(ask('flaky-503')).withResponse();
    expect(data.choices[0].message.content).toBe('You said: hello there');
    expect(response.headers.get('x-sluice-model')).toBe('deepseek-chat');
    expect(response.headers.get('x-sluice-route')).toBe('deepseek');
    expect(response.headers.get('x-sluice-fallback-from')).toBe('flaky-503');
  });

  it('a 429 moves on too, across vendors (OpenAI → Anthropic)', async () => {
    const { response } = await client.chat.completions.create(ask('flaky-429')).withResponse();
    expect(response.headers.get('x-sluice-route')).toBe('anthropic');
  });

  it('a rejected upstream key moves on; the caller is not told its own key is wrong', async () => {
    const { response } = await client.chat.completions.create(ask('bad-key')).withResponse();
    expect(response.headers.get('x-sluice-model')).toBe('deepseek-chat');
  });

  it('a timeout moves on', async () => {
    const { response } = await client.chat.completions.create(ask('slow')).withResponse();
    expect(response.headers.get('x-sluice-model')).toBe('gpt-4o-mini');
  });

  it("a caller's own mistake reported by the vendor is not retried elsewhere", async () => {
    const before = sluice.deepseek.calls('/v1/chat/completions');
    const error = await client.chat.completions.create(ask('only-400')).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(sluice.deepseek.calls('/v1/chat/completions')).toBe(before);
  });

  it('with no candidate left, a vendor 429 reaches the client as 429 with retry-after', async () => {
    const error = await client.chat.completions.create(ask('only-429')).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.headers.get('retry-after')).toBe('7');
    expect(error.error.type).toBe('rate_limit_error');
  });

  it('with no candidate left, a vendor 503 is a 503', async () => {
    const error = await client.chat.completions.create(ask('only-503')).catch((caught) => caught);
    expect(error.status).toBe(503);
  });

  it('streams fall back too while nothing was sent: an empty stream moves on', async () => {
    const { status, headers, frames } = await rawStream('empty-stream');
    expect(status).toBe(200);
    expect(headers.get('x-sluice-model')).toBe('deepseek-chat');
    expect(frames.at(-1)).toBe('[DONE]');
  });

  it('a streamed request to a failing model falls back before any header goes out', async () => {
    const { headers, frames } = await rawStream('flaky-503');
    expect(headers.get('x-sluice-model')).toBe('deepseek-chat');
    const text = frames.slice(0, -1).map((frame) => JSON.parse(frame).choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('You said: one two three four five');
  });
});

describe('after the first byte, no silent switch', () => {
  it('an upstream cut mid-stream ends with one error frame and no [DONE]', async () => {
    const before = sluice.deepseek.calls('/v1/chat/completions');
    const { status, headers, frames } = await rawStream('cut-stream');
    expect(status).toBe(200);
    expect(headers.get('x-sluice-model')).toBe('cut-stream');
    expect(frames).not.toContain('[DONE]');
    const last = JSON.parse(frames.at(-1)!);
    expect(last.error.type).toBeTruthy();
    expect(last.error.message).toBeTruthy();
    expect(sluice.deepseek.calls('/v1/chat/completions')).toBe(before); // nothing appended from another model
  });

  it('the SDK surfaces the cut as an error instead of a truncated answer', async () => {
    const stream = await client.chat.completions.create({ ...ask('cut-stream'), stream: true });
    await expect(async () => {
      for await (const _chunk of stream) {
        // drain
      }
    }).rejects.toThrow();
  });

  it('an upstream error event mid-stream is relayed as an error frame', async () => {
    const { frames } = await rawStream('stream-error');
    expect(frames).not.toContain('[DONE]');
    expect(JSON.parse(frames.at(-1)!).error).toBeDefined();
  });
});

describe('usage and cost', () => {
  it('the usage chunk reaches the client only when asked for', async () => {
    const withUsage = await client.chat.completions.create({ ...ask('gpt-4o'), stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.total_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);

    const without = await client.chat.completions.create({ ...ask('gpt-4o'), stream: true });
    const plain = [];
    for await (const chunk of without) plain.push(chunk);
    expect(plain.every((chunk) => chunk.choices.length > 0 && chunk.usage === undefined)).toBe(true);
    // …yet the upstream was asked for usage, so the stream is costed exactly.
    const upstream = sluice.openai.requests.filter((request) => request.path.endsWith('/chat/completions')).at(-1)!;
    expect((upstream.body as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage).toBe(true);
  });

  it('the cost header is tokens × the price table', async () => {
    const { data, response } = await client.chat.completions.create(ask('gpt-4o', 'price this please')).withResponse();
    const expected = (data.usage!.prompt_tokens * 2.5 + data.usage!.completion_tokens * 10) / 1e6;
    expect(Number(response.headers.get('x-sluice-cost-usd'))).toBeCloseTo(expected, 10);
  });

  it('a streamed call costs the same as the same call unstreamed (sent as a trailer)', async () => {
    const body = { ...ask('gpt-4o', 'same cost either way'), stream: true };
    const { response } = await client.chat.completions.create(ask('gpt-4o', 'same cost either way')).withResponse();
    const trailers = await new Promise<NodeJS.Dict<string>>((resolve, reject) => {
      const request = http.request(`${sluice.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.trailers));
      });
      request.on('error', reject);
      request.end(JSON.stringify(body));
    });
    expect(Number(trailers['x-sluice-cost-usd'])).toBeGreaterThan(0);
    expect(trailers['x-sluice-cost-usd']).toBe(response.headers.get('x-sluice-cost-usd'));
  });

  it('a vendor that reports no usage gets an estimate, flagged as such', async () => {
    const { data, response } = await client.chat.completions.create(ask('no-usage', 'count me please')).withResponse();
    expect(data.usage).toBeUndefined();
    expect(response.headers.get('x-sluice-cost-estimated')).toBe('true');
    expect(Number(response.headers.get('x-sluice-cost-usd'))).toBeGreaterThan(0);
  });
});

describe('client disconnect', () => {
  it('closing the socket aborts the call and is recorded as 499, and the gateway carries on', async () => {
    const controller = new AbortController();
    const before = sluice.openai.calls('/v1/chat/completions');
    const pending = fetch(`${sluice.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'only-slow', messages: [{ role: 'user', content: 'wait for it' }], stream: true }),
      signal: controller.signal,
    }).catch((error) => error);
    await vi.waitFor(() => expect(sluice.openai.calls('/v1/chat/completions')).toBe(before + 1));
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await vi.waitFor(async () => {
      const metrics = await (await fetch(`${sluice.origin}/metrics`)).text();
      expect(metrics).toMatch(/sluice_requests_total\{endpoint="chat"[^}]*status="499"\} 1/);
    });
    expect((await fetch(`${sluice.origin}/health`)).status).toBe(200);
  });
});
