/**
 * The local chat model, for real: SmolLM2-135M-Instruct (GGUF) run in-process by the llama-cpp
 * adapter, first directly and then through the gateway with the official OpenAI client. The
 * weights come from `make setup`; without them this fails (it never skips).
 *
 * Everything that compares texts runs at temperature 0 (greedy), where the model is
 * deterministic; the machine is small and shared, so timeouts are generous.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlamaCppAdapter } from '../../adapters/llama-cpp/llama-cpp-adapter.js';
import { SluiceError, type Adapter, type AdapterSettings, type CallOptions, type ChatCompletionChunk, type ChatRequest } from '../../adapters/spec/index.js';
import { parseConfig } from '../../src/config/load.js';
import { buildGateway, type Gateway } from '../../src/gateway.js';

const MODELS_DIR = process.env.SLUICE_MODELS_DIR ?? 'models';
const MODEL_FILE = 'chat/smollm2-135m-instruct-q4_1.gguf';
const MODEL = 'smollm2-135m-instruct';
const NARROW_MODEL = 'smollm2-one-at-a-time';
const LONG_MS = 180_000;

const capital = [{ role: 'user' as const, content: 'What is the capital of France?' }];
const story = [{ role: 'user' as const, content: 'Write a very long story about a dragon who learns to bake bread.' }];
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

beforeAll(() => {
  const path = resolve(MODELS_DIR, MODEL_FILE);
  if (!existsSync(path)) throw new Error(`${path} is missing: run make setup`);
});

function settings(options: Record<string, unknown>, log?: AdapterSettings['log']): AdapterSettings {
  return { id: 'local', type: 'llama-cpp', timeoutMs: 60_000, options: { model: MODEL_FILE, ...options }, paths: { modelsDir: MODELS_DIR, dataDir: tmpdir() }, log };
}

function call(overrides: Partial<CallOptions> = {}): CallOptions {
  return { requestId: 'req-local', signal: new AbortController().signal, timeoutMs: 60_000, ...overrides };
}

const chatRequest = (overrides: Partial<ChatRequest> = {}): ChatRequest => ({ model: MODEL, messages: capital, temperature: 0, ...overrides });

async function failureOf(promise: Promise<unknown>): Promise<SluiceError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    return error as SluiceError;
  }
  throw new Error('expected the call to fail');
}

describe('llama-cpp adapter, directly', () => {
  const logged: string[] = [];
  let adapter: Adapter;
  /** One slot and room for one more in line: abort and queue behaviour are visible. */
  let narrow: Adapter;

  beforeAll(async () => {
    adapter = createLlamaCppAdapter(settings({ parallel: 2 }, (_level, message) => logged.push(message)));
    narrow = createLlamaCppAdapter(settings({ parallel: 1, queue_limit: 1 }));
    await Promise.all([adapter.ready!(), narrow.ready!()]);
  }, LONG_MS);
  afterAll(() => Promise.all([adapter?.close(), narrow?.close()]));

  it('is a local backend for chat, stream, json and tools, and logs its loading', () => {
    expect(adapter.location).toBe('local');
    expect([...adapter.capabilities].sort()).toEqual(['chat', 'json', 'stream', 'tools']);
    expect(adapter.embed).toBeUndefined();
    expect(logged[0]).toBe('loading model…');
    expect(logged[1]).toMatch(/^loaded in \d+ ms$/);
  });

  it('answers a factual question, with real token counts', async () => {
    const completion = await adapter.chat!(chatRequest(), call());
    expect(completion.id).toMatch(/^chatcmpl-local-/);
    expect(completion.model).toBe(MODEL);
    expect(completion.choices[0].message.content).toMatch(/Paris/);
    expect(completion.choices[0].finish_reason).toBe('stop');
    const usage = completion.usage!;
    expect(Number.isInteger(usage.prompt_tokens) && usage.prompt_tokens > 0).toBe(true);
    expect(Number.isInteger(usage.completion_tokens) && usage.completion_tokens > 0).toBe(true);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    const longer = await adapter.chat!(chatRequest({ messages: [{ role: 'system', content: 'You are a helpful assistant.' }, ...capital], max_tokens: 1 }), call());
    expect(longer.usage!.prompt_tokens).toBeGreaterThan(usage.prompt_tokens);
  }, LONG_MS);

  it('streams token by token: role first, then text, finish, and a usage chunk', async () => {
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of adapter.chatStream!(chatRequest({ messages: story, max_tokens: 24 }), call())) chunks.push(chunk);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const texts = chunks.slice(1, -2).map((chunk) => chunk.choices[0].delta.content);
    expect(texts.length).toBeGreaterThan(5);
    expect(texts.every((text) => typeof text === 'string' && text.length > 0)).toBe(true);
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('length');
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage?.completion_tokens).toBe(24);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
  }, LONG_MS);

  it('marks JSON and streamed answers with the same system_fingerprint, stable across loads of the same model', async () => {
    const completion = await adapter.chat!(chatRequest({ max_tokens: 4 }), call());
    const fingerprint = completion.system_fingerprint;
    expect(fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of adapter.chatStream!(chatRequest({ max_tokens: 4 }), call())) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(new Set(chunks.map((chunk) => chunk.system_fingerprint))).toEqual(new Set([fingerprint]));
    // `narrow` loads the same file with the same context size: the same backend configuration.
    expect((await narrow.chat!(chatRequest({ max_tokens: 4 }), call())).system_fingerprint).toBe(fingerprint);
  }, LONG_MS);

  it('samples reproducibly with a seed at temperature > 0', async () => {
    const sampled = (seed: number) => adapter.chat!(chatRequest({ messages: story, temperature: 1, seed, max_tokens: 24 }), call());
    const [first, again, other] = [await sampled(7), await sampled(7), await sampled(8)];
    expect(again.choices[0].message.content).toBe(first.choices[0].message.content);
    expect(other.choices[0].message.content).not.toBe(first.choices[0].message.content);
  }, LONG_MS);

  it('generates n choices one after another, counting the prompt once', async () => {
    const single = await adapter.chat!(chatRequest(), call());
    const completion = await adapter.chat!(chatRequest({ n: 2 }), call());
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1]);
    // Greedy: both choices are the one most likely answer.
    expect(completion.choices[1].message.content).toBe(completion.choices[0].message.content);
    expect(completion.usage!.prompt_tokens).toBe(single.usage!.prompt_tokens);
    expect(completion.usage!.completion_tokens).toBe(2 * single.usage!.completion_tokens);
  }, LONG_MS);

  it('forces a tool call with tool_choice, and answers from a tool result', async () => {
    const forced = await adapter.chat!(chatRequest({ messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools: [weatherTool], tool_choice: 'required' }), call());
    const [toolCall] = forced.choices[0].message.tool_calls!;
    expect(forced.choices[0].finish_reason).toBe('tool_calls');
    expect(forced.choices[0].message.content).toBeNull();
    expect(toolCall.function.name).toBe('get_weather');
    expect(typeof JSON.parse(toolCall.function.arguments).city).toBe('string');

    const answered = await adapter.chat!(
      chatRequest({
        messages: [
          { role: 'user', content: 'What is the weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [toolCall] },
          { role: 'tool', tool_call_id: toolCall.id, content: '{"temperature_c": 21, "sky": "sunny"}' },
        ],
        tools: [weatherTool],
        max_tokens: 40,
      }),
      call(),
    );
    expect(answered.choices[0].message.content ?? answered.choices[0].message.tool_calls).toBeTruthy();
  }, LONG_MS);

  it('streams a forced tool call as a tool_calls delta', async () => {
    const chunks: ChatCompletionChunk[] = [];
    const request = chatRequest({ messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    for await (const chunk of adapter.chatStream!(request, call())) chunks.push(chunk);
    const delta = chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => choice.delta.tool_calls ?? []));
    expect(delta).toHaveLength(1);
    expect(delta[0].function?.name).toBe('get_weather');
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('tool_calls');
  }, LONG_MS);

  it.each<[string, Partial<ChatRequest>, string]>([
    ['a schema the grammar cannot enforce', { response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } } } } } }, 'response_format'],
    ['a prompt longer than the context', { messages: [{ role: 'user', content: 'word '.repeat(5000) }] }, 'messages'],
    ['an image', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] }, 'messages[0].content[0]'],
  ])('refuses %s as invalid-request before generating', async (_name, overrides, param) => {
    const error = await failureOf(adapter.chat!(chatRequest(overrides), call()));
    expect(error.kind).toBe('invalid-request');
    expect(error.detail.param).toBe(param);
  }, LONG_MS);

  it('stops a stream when its client aborts, and frees the slot', async () => {
    const controller = new AbortController();
    const received: ChatCompletionChunk[] = [];
    const error = await failureOf(
      (async () => {
        for await (const chunk of narrow.chatStream!(chatRequest({ messages: story, max_tokens: 2000 }), call({ signal: controller.signal }))) {
          received.push(chunk);
          if (received.length === 3) controller.abort();
        }
      })(),
    );
    expect(error.kind).toBe('client-closed');
    expect(received.length).toBeLessThan(10);
    // One slot, one place in line: had the slot stayed taken, the second of these would be refused.
    const [first, second] = await Promise.all([narrow.chat!(chatRequest({ max_tokens: 8 }), call()), narrow.chat!(chatRequest({ max_tokens: 8 }), call())]);
    expect(first.choices[0].message.content).toBe(second.choices[0].message.content);
  }, LONG_MS);

  it('frees the slot when the reader stops early', async () => {
    for await (const chunk of narrow.chatStream!(chatRequest({ messages: story, max_tokens: 2000 }), call())) {
      expect(chunk.choices[0].delta.role).toBe('assistant');
      break;
    }
    const results = await Promise.all([narrow.chat!(chatRequest({ max_tokens: 4 }), call()), narrow.chat!(chatRequest({ max_tokens: 4 }), call())]);
    expect(results.map((result) => result.choices[0].finish_reason)).toEqual(['length', 'length']);
  }, LONG_MS);

  it('takes an aborted request out of the line, and refuses more than the line holds', async () => {
    const holder = new AbortController();
    const holding = narrow.chatStream!(chatRequest({ messages: story, max_tokens: 2000 }), call({ signal: holder.signal }))[Symbol.asyncIterator]();
    await holding.next(); // the slot is taken

    const leaving = new AbortController();
    const queued = narrow.chat!(chatRequest(), call({ signal: leaving.signal }));
    const refused = await failureOf(narrow.chat!(chatRequest(), call()));
    expect(refused.kind).toBe('rate-limited');
    expect(refused.detail.retryAfterSeconds).toBeGreaterThanOrEqual(1);

    leaving.abort();
    expect((await failureOf(queued)).kind).toBe('client-closed');
    const next = narrow.chat!(chatRequest({ max_tokens: 8 }), call()); // its place in line is free again
    holder.abort();
    const drained = failureOf((async () => {
      while (!(await holding.next()).done); // what was generated before the abort, then the error
    })());
    expect((await drained).kind).toBe('client-closed');
    expect((await next).choices[0].message.content).toBeTruthy();
  }, LONG_MS);

  it('gives up with timeout when the call runs out of time, and frees the slot', async () => {
    const error = await failureOf(narrow.chat!(chatRequest({ messages: story, max_tokens: 2000 }), call({ timeoutMs: 300 })));
    expect(error.kind).toBe('timeout');
    expect((await narrow.chat!(chatRequest({ max_tokens: 4 }), call())).choices).toHaveLength(1);
  }, LONG_MS);

  it('fails ready() and every call when the model cannot load', async () => {
    const missing = createLlamaCppAdapter(settings({ model: 'chat/no-such-model.gguf' }));
    await expect(missing.ready!()).rejects.toThrow(/run make setup/);
    const error = await failureOf(missing.chat!(chatRequest(), call()));
    expect(error.kind).toBe('upstream-unavailable');
    await missing.close();
  });

  it('answers nothing after close()', async () => {
    const closing = createLlamaCppAdapter(settings({ parallel: 1 }));
    await closing.ready!();
    await closing.close();
    expect((await failureOf(closing.chat!(chatRequest(), call()))).kind).toBe('upstream-unavailable');
  }, LONG_MS);
});

describe('local chat through the gateway (OpenAI client)', () => {
  let gateway: Gateway;
  let client: OpenAI;
  let origin: string;

  beforeAll(async () => {
    const capabilities = ['chat', 'stream', 'json', 'tools'];
    const config = parseConfig({
      server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
      paths: { data_dir: mkdtempSync(join(tmpdir(), 'sluice-local-chat-')), models_dir: MODELS_DIR },
      backends: {
        local: { type: 'llama-cpp', requires_key: false, options: { model: MODEL_FILE, parallel: 2 } },
        'local-narrow': { type: 'llama-cpp', requires_key: false, options: { model: MODEL_FILE, parallel: 1, queue_limit: 1, max_wait_ms: 600_000 } }, // bounded by queue_limit alone: waiting time has its own test (local-overload)
      },
      models: [
        { id: MODEL, backend: 'local', capabilities },
        { id: NARROW_MODEL, backend: 'local-narrow', capabilities },
      ],
      cache: { enabled: false }, // every call here is about the model's own answer, repeats included
    });
    gateway = buildGateway(config, pino({ level: 'silent' }));
    await gateway.ready;
    const server = await gateway.listen(0, '127.0.0.1');
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    client = new OpenAI({ baseURL: `${origin}/v1`, apiKey: 'sk-local', maxRetries: 0, timeout: LONG_MS });
  }, LONG_MS);
  afterAll(() => gateway?.close());

  const ask = (body: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    client.chat.completions.create({ model: MODEL, messages: capital, temperature: 0, ...body });

  it('is ready once the model is loaded', async () => {
    expect((await fetch(`${origin}/ready`)).status).toBe(200);
  });

  it('answers "What is the capital of France?" locally, for free', async () => {
    const { data: completion, response } = await ask().withResponse();
    expect(completion.choices[0].message.content).toMatch(/Paris/);
    expect(response.headers.get('x-sluice-route')).toBe('local');
    expect(response.headers.get('x-sluice-model')).toBe(MODEL);
    expect(Number(response.headers.get('x-sluice-cost-usd'))).toBe(0);
    expect(completion.model).toBe(MODEL);
    const usage = completion.usage!;
    for (const count of [usage.prompt_tokens, usage.completion_tokens]) expect(Number.isInteger(count) && count > 0).toBe(true);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  }, LONG_MS);

  it('streams the same text it answers unstreamed, at temperature 0 with a seed', async () => {
    const body = { model: MODEL, messages: story, temperature: 0, seed: 42, max_tokens: 64 };
    const whole = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(text).toBe(whole.choices[0].message.content);
    expect(finish).toBe(whole.choices[0].finish_reason);
    expect(usage).toEqual(whole.usage);
  }, LONG_MS);

  it('stops at max_tokens with finish_reason length', async () => {
    const completion = await ask({ messages: story, max_tokens: 5 });
    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.usage!.completion_tokens).toBeLessThanOrEqual(5);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
  }, LONG_MS);

  it('cuts the text at a stop sequence, which it leaves out', async () => {
    const full = (await ask({ messages: story, max_tokens: 60 })).choices[0].message.content!;
    const words = full.split(/\s+/).filter((word) => word.length > 2);
    const stop = words[Math.floor(words.length / 2)];
    const cut = await ask({ messages: story, max_tokens: 60, stop: [stop] });
    expect(cut.choices[0].finish_reason).toBe('stop');
    expect(cut.choices[0].message.content).toBe(full.slice(0, full.indexOf(stop)));
    // Streamed, the stop text is held back too: no chunk ever shows it.
    let streamed = '';
    for await (const chunk of await client.chat.completions.create({ model: MODEL, messages: story, temperature: 0, max_tokens: 60, stop: [stop], stream: true })) {
      streamed += chunk.choices[0]?.delta.content ?? '';
    }
    expect(streamed).toBe(cut.choices[0].message.content);
  }, LONG_MS);

  it('returns JSON that validates against a json_schema', async () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, country: { type: 'string' }, population_millions: { type: 'number' }, is_capital: { type: 'boolean' } },
      required: ['city', 'country', 'population_millions', 'is_capital'],
      additionalProperties: false,
    };
    const completion = await ask({
      messages: [{ role: 'user', content: 'Describe Paris as JSON with city, country, population_millions and is_capital.' }],
      max_tokens: 120,
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema, strict: true } },
    });
    expect(completion.choices[0].finish_reason).toBe('stop');
    const parsed: unknown = JSON.parse(completion.choices[0].message.content!);
    const validate = new Ajv().compile(schema);
    expect(validate.errors ?? validate(parsed)).toBe(true);
  }, LONG_MS);

  it('refuses a schema the grammar cannot enforce with a 400 naming response_format', async () => {
    const error = await ask({ response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'string', pattern: '^a+$' } } } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('response_format');
  }, LONG_MS);

  it('calls a tool when tool_choice requires one', async () => {
    const completion = await ask({ messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools: [weatherTool], tool_choice: 'required' });
    const toolCall = completion.choices[0].message.tool_calls![0];
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(toolCall.type === 'function' && toolCall.function.name).toBe('get_weather');
  }, LONG_MS);

  it('serves 8 concurrent requests, all successfully', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => ask({ messages: [{ role: 'user', content: `What is ${index} plus ${index}?` }], max_tokens: 24 })));
    for (const answer of answers) {
      expect(answer.choices[0].message.content!.length).toBeGreaterThan(0);
      expect(answer.usage!.completion_tokens).toBeGreaterThan(0);
    }
  }, LONG_MS);

  it('answers a burst beyond parallel + queue_limit with 429 and retry-after', async () => {
    const attempts = await Promise.allSettled(Array.from({ length: 6 }, () => ask({ model: NARROW_MODEL, messages: story, max_tokens: 64 }).withResponse()));
    const succeeded = attempts.filter((attempt) => attempt.status === 'fulfilled');
    const refused = attempts.flatMap((attempt) => (attempt.status === 'rejected' ? [attempt.reason] : []));
    expect(succeeded.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const error of refused) {
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(Number((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  }, LONG_MS);

  it('frees the slot of an aborted request: the next one still succeeds', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: NARROW_MODEL, messages: story, temperature: 0, max_tokens: 2000, stream: true },
      { signal: controller.signal },
    );
    let chunks = 0;
    const reading = (async () => {
      for await (const _chunk of stream) if (++chunks === 3) controller.abort();
    })();
    // The SDK ends an aborted stream quietly or with an abort error, depending on timing.
    await Promise.allSettled([reading]);
    expect(chunks).toBe(3);
    const next = await ask({ model: NARROW_MODEL, max_tokens: 16 });
    expect(next.choices[0].message.content).toMatch(/Paris/);
  }, LONG_MS);
});
