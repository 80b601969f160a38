/**
 * One suite, every backend: the same cases run against each adapter, driven by its declared
 * capabilities. A capability an adapter does not list is asserted absent, not skipped. An
 * adapter's capabilities say what its code implements, whatever the backend: which of them a
 * model offers is said once, by the model's config entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicAdapter } from '../../adapters/anthropic/anthropic-adapter.js';
import { createOpenAICompatibleAdapter } from '../../adapters/openai-compatible/openai-compatible-adapter.js';
import type { Adapter, AdapterFactory, Capability, ChatCompletionChunk, ChatRequest } from '../../adapters/spec/index.js';
import { SluiceError } from '../../adapters/spec/index.js';
import { startFakeAnthropic } from '../fakes/fake-anthropic.js';
import { startFakeOpenAI } from '../fakes/fake-openai.js';

interface Fake {
  url: string;
  apiKey: string;
  close(): Promise<void>;
}

interface Backend {
  name: string;
  start(): Promise<Fake>;
  factory: AdapterFactory;
  type: string;
  model: string;
  /** What the adapter's code implements, the same for every backend of its type. */
  capabilities: Capability[];
}

const OPENAI_PROTOCOL: Capability[] = ['chat', 'stream', 'tools', 'json', 'vision', 'embed', 'transcribe'];

const BACKENDS: Backend[] = [
  { name: 'openai', type: 'openai', start: () => startFakeOpenAI(), factory: createOpenAICompatibleAdapter, model: 'gpt-4o', capabilities: OPENAI_PROTOCOL },
  {
    name: 'deepseek (openai-compatible)',
    type: 'openai-compatible',
    start: () => startFakeOpenAI({ name: 'deepseek' }),
    factory: createOpenAICompatibleAdapter,
    model: 'deepseek-chat',
    capabilities: OPENAI_PROTOCOL,
  },
  {
    name: 'anthropic',
    type: 'anthropic',
    start: () => startFakeAnthropic(),
    factory: createAnthropicAdapter,
    model: 'claude-3-5-sonnet-latest',
    capabilities: ['chat', 'stream', 'tools', 'json', 'vision'],
  },
];

const call = (overrides: Partial<{ signal: AbortSignal; timeoutMs: number }> = {}) => ({
  requestId: 'req_conformance',
  signal: overrides.signal ?? new AbortController().signal,
  timeoutMs: overrides.timeoutMs ?? 10_000,
});

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

async function failureOf(promise: Promise<unknown>): Promise<SluiceError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    return error as SluiceError;
  }
  throw new Error('expected the call to fail');
}

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe.each(BACKENDS)('adapter conformance: $name', (backend) => {
  let fake: Fake;
  let adapter: Adapter;
  const make = (overrides: { apiKey?: string; timeoutMs?: number } = {}) =>
    backend.factory({
      id: backend.name,
      type: backend.type,
      baseUrl: fake.url,
      apiKey: overrides.apiKey ?? fake.apiKey,
      timeoutMs: overrides.timeoutMs ?? 10_000,
      options: {},
      paths: { modelsDir: 'models', dataDir: 'data' },
    });
  const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: backend.model, messages: [{ role: 'user', content }], ...extra });

  beforeAll(async () => {
    fake = await backend.start();
    adapter = make();
  });
  afterAll(async () => {
    await adapter.close();
    await fake.close();
  });

  it('declares a method exactly for each capability it lists', () => {
    const methods = { chat: 'chat', stream: 'chatStream', embed: 'embed', transcribe: 'transcribe' } as const;
    for (const [capability, method] of Object.entries(methods)) {
      expect(typeof (adapter as unknown as Record<string, unknown>)[method] === 'function', `${capability} ↔ ${method}`).toBe(
        adapter.capabilities.has(capability as never),
      );
    }
    expect([...adapter.capabilities].sort()).toEqual([...backend.capabilities].sort());
  });

  it('chat: answers with an OpenAI-shaped completion and real usage', async () => {
    const completion = await adapter.chat!(ask('what is the capital of France'), call());
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0].message.role).toBe('assistant');
    expect(completion.choices[0].message.content).toContain('capital of France');
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
  });

  it('stream: deltas join to the unstreamed answer, the last chunk carries usage', async () => {
    const request = ask('tell me about rivers and lakes');
    const whole = await adapter.chat!(request, call());
    const chunks = await collect(adapter.chatStream!(request, call()));
    const text = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content ?? '')).join('');
    expect(text).toBe(whole.choices[0].message.content);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.find((chunk) => chunk.choices.some((choice) => choice.finish_reason))?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)!.usage?.completion_tokens).toBe(whole.usage!.completion_tokens);
  });

  it('tools: a prompt naming the tool gets a tool call with JSON arguments, streamed or not', async () => {
    const request = ask('please call get_weather for Paris', { tools: [weatherTool] });
    const completion = await adapter.chat!(request, call());
    const calls = completion.choices[0].message.tool_calls!;
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(calls[0].function.name).toBe('get_weather');
    expect(typeof JSON.parse(calls[0].function.arguments).city).toBe('string');

    const chunks = await collect(adapter.chatStream!(request, call()));
    const deltas = chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => choice.delta.tool_calls ?? []));
    expect(deltas[0].id).toBeTruthy();
    expect(deltas[0].function?.name).toBe('get_weather');
    const joined = deltas.filter((delta) => delta.index === 0).map((delta) => delta.function?.arguments ?? '').join('');
    expect(JSON.parse(joined)).toEqual(JSON.parse(calls[0].function.arguments));
  });

  it('json mode: json_schema gives content that parses and has the required fields', async () => {
    const completion = await adapter.chat!(
      ask('give me a person', {
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'person', schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'number' } }, required: ['name', 'age'] } },
        },
      }),
      call(),
    );
    const parsed = JSON.parse(completion.choices[0].message.content!);
    expect(typeof parsed.name).toBe('string');
    expect(typeof parsed.age).toBe('number');
  });

  it('errors: 429 → rate-limited with retry-after, 503 → upstream-unavailable', async () => {
    const limited = await failureOf(adapter.chat!({ ...ask('x'), model: 'fake-429' }, call()));
    expect(limited.kind).toBe('rate-limited');
    expect(limited.detail.retryAfterSeconds).toBe(7);
    const down = await failureOf(adapter.chat!({ ...ask('x'), model: 'fake-503' }, call()));
    expect(down.kind).toBe('upstream-unavailable');
    expect(down.isRetryable).toBe(true);
  });

  it('errors: a wrong upstream key is upstream-rejected (our fault, not the caller’s)', async () => {
    const wrong = make({ apiKey: 'sk-wrong' });
    const rejected = await failureOf(wrong.chat!(ask('x'), call()));
    expect(rejected.kind).toBe('upstream-rejected');
  });

  it('abort: a client abort becomes client-closed', async () => {
    const controller = new AbortController();
    const pending = adapter.chat!({ ...ask('x'), model: 'fake-slow' }, call({ signal: controller.signal }));
    setImmediate(() => controller.abort());
    expect((await failureOf(pending)).kind).toBe('client-closed');
  });

  it('timeout: a backend slower than its timeout is a timeout', async () => {
    const impatient = make({ timeoutMs: 200 });
    const failure = await failureOf(impatient.chat!({ ...ask('x'), model: 'fake-slow' }, call({ timeoutMs: 200 })));
    expect(failure.kind).toBe('timeout');
  });

  it('stream cut mid-way: the iterator throws a SluiceError instead of ending quietly', async () => {
    const chunks: ChatCompletionChunk[] = [];
    const failure = await failureOf(
      (async () => {
        for await (const chunk of adapter.chatStream!({ ...ask('a long answer please'), model: 'fake-cut-after-first-chunk' }, call())) chunks.push(chunk);
      })(),
    );
    expect(chunks.length).toBeGreaterThan(0);
    expect(['upstream-unavailable', 'timeout']).toContain(failure.kind);
  });

  it('embed and transcribe: present exactly when listed, and then they work', async () => {
    if (!adapter.capabilities.has('embed')) {
      expect(adapter.embed).toBeUndefined();
    } else {
      const result = await adapter.embed!({ model: 'text-embedding-3-small', input: { kind: 'text', values: ['a', 'b'] } }, call());
      expect(result.vectors).toHaveLength(2);
      expect(Math.hypot(...result.vectors[0])).toBeCloseTo(1, 4);
    }
    if (!adapter.capabilities.has('transcribe')) {
      expect(adapter.transcribe).toBeUndefined();
    } else {
      const result = await adapter.transcribe!(
        { model: 'whisper-1', file: { data: Buffer.from('Hello world. This is a test.'), filename: 'a.wav', contentType: 'audio/wav' } },
        call(),
      );
      expect(result.text).toContain('Hello world');
      expect(result.segments.length).toBeGreaterThan(0);
    }
  });
});
