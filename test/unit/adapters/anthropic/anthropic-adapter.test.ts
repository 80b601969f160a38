import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicAdapter } from '../../../../adapters/anthropic/anthropic-adapter.js';
import {
  SluiceError,
  type Adapter,
  type AdapterSettings,
  type CallOptions,
  type ChatCompletionChunk,
  type ChatRequest,
} from '../../../../adapters/spec/index.js';
import { startFakeAnthropic, type FakeAnthropic } from '../../../fakes/fake-anthropic.js';

let fake: FakeAnthropic;
let adapter: Adapter;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  adapter = createAnthropicAdapter(settings());
});
afterAll(async () => {
  await adapter.close();
  await fake.close();
});

function settings(overrides: Partial<AdapterSettings> = {}): AdapterSettings {
  return { id: 'anthropic', type: 'anthropic', baseUrl: fake.url, apiKey: fake.apiKey, timeoutMs: 5_000, options: {}, paths: { modelsDir: 'models', dataDir: 'data' }, ...overrides } as AdapterSettings;
}

function call(overrides: Partial<CallOptions> = {}): CallOptions {
  return { requestId: 'req-test', signal: new AbortController().signal, timeoutMs: 5_000, ...overrides };
}

function request(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello there' }], ...overrides };
}

async function drain(stream: AsyncIterable<ChatCompletionChunk>): Promise<{ chunks: ChatCompletionChunk[]; error?: SluiceError }> {
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    return { chunks, error };
  }
  return { chunks };
}

async function rejection(promise: Promise<unknown>): Promise<SluiceError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SluiceError);
  return error as SluiceError;
}

const contentOf = (chunks: ChatCompletionChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');

const weatherTools: ChatRequest['tools'] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } },
];

describe('anthropic adapter', () => {
  it('declares what it serves', () => {
    expect(adapter.location).toBe('vendor');
    expect([...adapter.capabilities].sort()).toEqual(['chat', 'json', 'stream', 'tools', 'vision']);
  });

  it('answers a chat through the SDK, sending the translated request', async () => {
    const before = fake.requests.length;
    const completion = await adapter.chat!(
      request({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }], temperature: 1.5 }),
      call(),
    );
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^msg_fake_/);
    expect(completion.model).toBe('claude-sonnet-4-5');
    expect(completion.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: 'You said: Hello there', refusal: null }, finish_reason: 'stop', logprobs: null },
    ]);
    expect(completion.usage).toMatchObject({ completion_tokens: 4, total_tokens: completion.usage!.prompt_tokens + 4 });
    expect(fake.requests.slice(before)).toEqual([
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 4096,
        stream: false,
        system: 'Be brief.',
        temperature: 1,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello there' }] }],
      },
    ]);
  });

  it('uses options.default_max_tokens and reports max_tokens as length', async () => {
    const short = createAnthropicAdapter(settings({ options: { default_max_tokens: 2 } }));
    const completion = await short.chat!(request(), call());
    expect((fake.requests.at(-1) as { max_tokens: number }).max_tokens).toBe(2);
    expect(completion.choices[0]).toMatchObject({ message: { content: 'You said:' }, finish_reason: 'length' });
  });

  it('runs n > 1 as parallel requests and merges the choices and usage', async () => {
    const single = await adapter.chat!(request(), call());
    const before = fake.requests.length;
    const completion = await adapter.chat!(request({ n: 3 }), call());
    expect(fake.requests.length - before).toBe(3);
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    expect(completion.choices.every((choice) => choice.message.content === 'You said: Hello there')).toBe(true);
    expect(completion.usage?.total_tokens).toBe(3 * single.usage!.total_tokens);
  });

  it('reports prompt-cache reads as cached prompt tokens', async () => {
    const completion = await adapter.chat!(request({ model: 'fake-cached' }), call());
    expect(completion.usage?.prompt_tokens_details).toEqual({ cached_tokens: 100 });
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(120);
  });

  it('returns tool calls from a chat', async () => {
    const completion = await adapter.chat!(request({ messages: [{ role: 'user', content: 'use get_weather' }], tools: weatherTools }), call());
    const choice = completion.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.tool_calls).toEqual([
      { id: 'toolu_fake_0_get_weather', type: 'function', function: { name: 'get_weather', arguments: '{"city":"use get_weather"}' } },
    ]);
  });

  it('streams text with a role chunk first, a finish chunk, then a usage chunk', async () => {
    const { chunks, error } = await drain(adapter.chatStream!(request({ stream: true }), call()));
    expect(error).toBeUndefined();
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(contentOf(chunks)).toBe('You said: Hello there');
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 4 } });
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
  });

  it('streams tool calls as indexed deltas', async () => {
    const { chunks } = await drain(
      adapter.chatStream!(request({ stream: true, tools: weatherTools, messages: [{ role: 'user', content: 'get_weather and get_time please' }] }), call()),
    );
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls.filter((delta) => delta.id)).toEqual([
      { index: 0, id: 'toolu_fake_0_get_weather', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 1, id: 'toolu_fake_1_get_time', type: 'function', function: { name: 'get_time', arguments: '' } },
    ]);
    const argumentsOf = (index: number) => calls.filter((delta) => delta.index === index).map((delta) => delta.function?.arguments ?? '').join('');
    expect(JSON.parse(argumentsOf(0))).toEqual({ city: 'get_weather and get_time please' });
    expect(JSON.parse(argumentsOf(1))).toEqual({ zone: 'get_weather and get_time please' });
    expect(calls.filter((delta) => !delta.id).length).toBeGreaterThan(2); // arguments arrived in fragments
    expect(contentOf(chunks)).toBe("I'll use get_weather and get_time.");
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('answers json_schema requests with JSON content, whole or streamed', async () => {
    const responseFormat: ChatRequest['response_format'] = {
      type: 'json_schema',
      json_schema: { name: 'verdict', schema: { type: 'object', properties: { score: { type: 'integer' }, ok: { type: 'boolean' } } } },
    };
    const completion = await adapter.chat!(request({ response_format: responseFormat }), call());
    expect(JSON.parse(completion.choices[0].message.content!)).toEqual({ score: 42, ok: true });
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect((fake.requests.at(-1) as { tool_choice: unknown }).tool_choice).toEqual({ type: 'tool', name: 'verdict' });

    const { chunks } = await drain(adapter.chatStream!(request({ stream: true, response_format: { type: 'json_object' } }), call()));
    expect(JSON.parse(contentOf(chunks))).toEqual({ answer: 'Hello there' });
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
  });

  it.each([
    ['fake-429', 'rate-limited', 429],
    ['fake-529', 'upstream-unavailable', 529],
    ['fake-503', 'upstream-unavailable', 503],
    ['fake-404', 'upstream-rejected', 404],
    ['fake-400', 'invalid-request', 400],
    ['fake-413', 'payload-too-large', 413],
  ] as const)('maps %s to %s, for chat and stream', async (model, kind, status) => {
    const error = await rejection(adapter.chat!(request({ model }), call()));
    expect(error).toMatchObject({ kind, detail: { upstreamStatus: status } });
    const streamed = await drain(adapter.chatStream!(request({ model, stream: true }), call()));
    expect(streamed.chunks).toEqual([]);
    expect(streamed.error).toMatchObject({ kind, detail: { upstreamStatus: status } });
  });

  it('passes retry-after on a 429', async () => {
    const error = await rejection(adapter.chat!(request({ model: 'fake-429' }), call()));
    expect(error.detail.retryAfterSeconds).toBe(7);
  });

  it('treats a rejected key as upstream-rejected, so the chain moves on', async () => {
    const wrongKey = createAnthropicAdapter(settings({ apiKey: 'sk-ant-wrong' }));
    const error = await rejection(wrongKey.chat!(request(), call()));
    expect(error).toMatchObject({ kind: 'upstream-rejected', detail: { upstreamStatus: 401 } });
    expect(error.isRetryable).toBe(true);
  });

  it('rejects every call when no key is configured', async () => {
    const keyless = createAnthropicAdapter(settings({ apiKey: undefined }));
    expect((await rejection(keyless.chat!(request(), call()))).kind).toBe('upstream-rejected');
  });

  it('is client-closed when the caller aborts before or during the request', async () => {
    const aborted = new AbortController();
    aborted.abort();
    expect((await rejection(adapter.chat!(request(), call({ signal: aborted.signal })))).kind).toBe('client-closed');

    const inFlight = new AbortController();
    const pending = adapter.chat!(request({ model: 'fake-slow' }), call({ signal: inFlight.signal }));
    await once(fake.events, 'request');
    inFlight.abort();
    expect((await rejection(pending)).kind).toBe('client-closed');
  });

  it('is client-closed when the caller aborts mid-stream', async () => {
    const controller = new AbortController();
    const chunks = adapter.chatStream!(request({ stream: true }), call({ signal: controller.signal }))[Symbol.asyncIterator]();
    expect((await chunks.next()).done).toBe(false);
    controller.abort();
    expect((await rejection(chunks.next())).kind).toBe('client-closed');
  });

  it('throws a SluiceError from the iterator when the stream is cut', async () => {
    const { chunks, error } = await drain(adapter.chatStream!(request({ model: 'fake-cut-after-first-chunk', stream: true }), call()));
    expect(contentOf(chunks)).toBe('You ');
    expect(error?.kind).toBe('upstream-unavailable');
    expect((await rejection(adapter.chat!(request({ model: 'fake-cut-after-first-chunk' }), call()))).kind).toBe('upstream-unavailable');
  });

  it('throws a SluiceError from the iterator on an error event', async () => {
    const { chunks, error } = await drain(adapter.chatStream!(request({ model: 'fake-stream-error', stream: true }), call()));
    expect(contentOf(chunks)).toBe('You ');
    expect(error).toMatchObject({ kind: 'upstream-unavailable', message: 'anthropic: Overloaded' });
  });

  it('times out when headers are slower than the call allows', async () => {
    expect((await rejection(adapter.chat!(request({ model: 'fake-slow' }), call({ timeoutMs: 100 })))).kind).toBe('timeout');
    const { error } = await drain(adapter.chatStream!(request({ model: 'fake-slow', stream: true }), call({ timeoutMs: 100 })));
    expect(error?.kind).toBe('timeout');
  });

  it('rejects an invalid request before calling the vendor', async () => {
    const before = fake.requests.length;
    const { error } = await drain(adapter.chatStream!(request({ stream: true, n: 2 }), call()));
    expect(error).toMatchObject({ kind: 'invalid-request', detail: { param: 'n' } });
    expect(fake.requests.length).toBe(before);
  });
});
