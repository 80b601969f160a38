// The fake is driven by the official `openai` SDK: whatever the SDK accepts here, it accepts from OpenAI.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import OpenAI, {
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.js';

let fake: FakeOpenAI;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  client = new OpenAI({ baseURL: fake.url, apiKey: fake.apiKey, maxRetries: 0 });
});

afterAll(() => fake.close());

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city', 'days', 'unit'],
    },
  },
};

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('chat completions', () => {
  it('answers with the OpenAI shape, headers and word-count usage', async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hello there' },
        ],
      })
      .withResponse();

    expect(data).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'You said: hello there', refusal: null }, logprobs: null, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8, prompt_tokens_details: { cached_tokens: 0 } },
    });
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.system_fingerprint).toMatch(/^fp_/);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(Number(response.headers.get('openai-processing-ms'))).toBeGreaterThanOrEqual(0);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('9999');
    const recorded = fake.requests.at(-1);
    expect(recorded).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: { model: 'gpt-4o-mini' } });
    expect(recorded?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
  });

  it.each<[string, Partial<ChatCompletionCreateParamsNonStreaming>, string[], string]>([
    ['n', { n: 3 }, ['You said: one two three four', 'You said: one two three four', 'You said: one two three four'], 'stop'],
    ['max_tokens', { max_tokens: 3 }, ['You said: one'], 'length'],
    ['max_completion_tokens', { max_completion_tokens: 4 }, ['You said: one two'], 'length'],
    ['stop', { stop: [' three', 'two'] }, ['You said: one '], 'stop'],
  ])('honours %s', async (_name, options, contents, finishReason) => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'one two three four' }],
      ...options,
    });
    expect(completion.choices.map((choice) => choice.message.content)).toEqual(contents);
    expect(completion.choices.map((choice) => choice.index)).toEqual(contents.map((_, index) => index));
    expect(completion.choices.every((choice) => choice.finish_reason === finishReason)).toBe(true);
  });

  it('calls the tool the user names, with arguments built from its schema', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'use get_weather for Paris' }],
      tools: [weatherTool],
    });
    const [choice] = completion.choices;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'x', days: 1, unit: 'celsius' });
  });

  it('answers in text after a tool result, and tool_choice forces a call', async () => {
    const afterTool = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'use get_weather' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      tools: [weatherTool],
    });
    expect(afterTool.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'You said: use get_weather' } });

    const forced = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'no tool mentioned' }],
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(forced.choices[0].finish_reason).toBe('tool_calls');
  });

  it('answers JSON for json_object and a schema-satisfying object for json_schema', async () => {
    const messages = [{ role: 'user' as const, content: 'give me json' }];
    const jsonObject = await client.chat.completions.create({ model: 'gpt-4o', messages, response_format: { type: 'json_object' } });
    expect(JSON.parse(jsonObject.choices[0].message.content ?? '')).toEqual({ answer: 'You said: give me json' });

    const schema = {
      type: 'object',
      properties: {
        title: { type: 'string' },
        score: { type: 'number' },
        done: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' } },
        mood: { type: 'string', enum: ['happy', 'sad'] },
        author: { $ref: '#/$defs/person' },
      },
      required: ['title', 'score', 'done', 'tags', 'mood', 'author'],
      $defs: { person: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
    };
    const jsonSchema = await client.chat.completions.create({
      model: 'gpt-4o',
      messages,
      response_format: { type: 'json_schema', json_schema: { name: 'review', schema, strict: true } },
    });
    expect(JSON.parse(jsonSchema.choices[0].message.content ?? '')).toEqual({
      title: 'x', score: 1, done: true, tags: ['x'], mood: 'happy', author: { name: 'x' },
    });
  });

  it.each<[string, Record<string, unknown>, number, string | null]>([
    ['no model', { messages: [{ role: 'user', content: 'hi' }] }, 400, 'model'],
    ['no messages', { model: 'gpt-4o' }, 400, 'messages'],
    ['empty messages', { model: 'gpt-4o', messages: [] }, 400, 'messages'],
    ['messages not an array', { model: 'gpt-4o', messages: 'hi' }, 400, 'messages'],
    ['n of zero', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], n: 0 }, 400, 'n'],
    ['stream_options without stream', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true } }, 400, 'stream_options'],
  ])('rejects %s with an OpenAI error body', async (_name, body, status, param) => {
    const response = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(status);
    const { error } = (await response.json()) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ type: 'invalid_request_error', param });
    expect(typeof error.message).toBe('string');
  });
});

describe('chat streaming', () => {
  it('streams a role chunk, one word per delta, usage last, through the SDK helper', async () => {
    const stream = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'stream me please' }],
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    const final = await stream.finalChatCompletion();

    expect(final.choices[0].message.content).toBe('You said: stream me please');
    expect(final.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
    expect(chunks[0].choices[0].delta).toMatchObject({ role: 'assistant', content: '' });
    const words = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content).filter((content) => content));
    expect(words).toEqual(['You', ' said:', ' stream', ' me', ' please']);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ object: 'chat.completion.chunk', choices: [], usage: { total_tokens: 8 } });
  });

  it('frames SSE as OpenAI does, ending with [DONE], and sends no usage unless asked', async () => {
    const response = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    const events = (await response.text()).split('\n\n');
    expect(events.at(-1)).toBe('');
    expect(events.at(-2)).toBe('data: [DONE]');
    const chunks = events.slice(0, -2).map((event) => {
      expect(event).toMatch(/^data: \{/);
      return JSON.parse(event.slice('data: '.length)) as Record<string, unknown>;
    });
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
  });

  it('streams tool calls as a header delta then argument fragments, which the SDK assembles', async () => {
    const stream = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'call get_weather now' }],
      tools: [weatherTool],
    });
    const chunks = await collect(stream);
    const final = await stream.finalChatCompletion();

    const header = chunks[0].choices[0].delta.tool_calls?.[0];
    expect(header).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(header?.id).toMatch(/^call_/);
    const fragments = chunks.slice(1).flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(fragments.length).toBeGreaterThan(3);
    expect(fragments.every((fragment) => fragment.id === undefined && fragment.function?.name === undefined)).toBe(true);
    const [choice] = final.choices;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls?.[0];
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'x', days: 1, unit: 'celsius' });
  });
});

describe('embeddings', () => {
  const norm = (vector: number[]) => Math.hypot(...vector);
  const cosine = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * b[index], 0);

  it('returns unit vectors the SDK decodes from its default base64', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['red apple pie', 'apple pie red', 'quantum tunnelling'] });
    expect(fake.requests.at(-1)?.body).toMatchObject({ encoding_format: 'base64' });
    expect(result.data.map((item) => item.index)).toEqual([0, 1, 2]);
    for (const item of result.data) {
      expect(item.embedding).toHaveLength(1536);
      expect(norm(item.embedding)).toBeCloseTo(1, 5);
    }
    expect(cosine(result.data[0].embedding, result.data[1].embedding)).toBeCloseTo(1, 5);
    expect(cosine(result.data[0].embedding, result.data[2].embedding)).toBeLessThan(0.5);
    expect(result.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
  });

  it('gives the same float32 values in float and base64, and honours dimensions and token arrays', async () => {
    const [asFloat, asBase64] = await Promise.all(
      (['float', undefined] as const).map((encoding_format) =>
        client.embeddings.create({ model: 'text-embedding-3-small', input: 'same text', dimensions: 256, encoding_format }),
      ),
    );
    expect(asFloat.data[0].embedding).toHaveLength(256);
    expect(asBase64.data[0].embedding).toEqual(asFloat.data[0].embedding);

    const tokens = await client.embeddings.create({ model: 'text-embedding-3-small', input: [[1, 2, 3], [4, 5]], encoding_format: 'float' });
    expect(tokens.data).toHaveLength(2);
    expect(tokens.usage.prompt_tokens).toBe(5);
  });
});

describe('error scenarios', () => {
  const request = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });

  it.each([
    ['fake-500', InternalServerError, 500, 'server_error'],
    ['fake-502', InternalServerError, 502, 'cf_bad_gateway'],
    ['fake-503', InternalServerError, 503, 'server_error'],
    ['fake-429', RateLimitError, 429, 'requests'],
    ['fake-401', AuthenticationError, 401, 'invalid_request_error'],
    ['fake-400', BadRequestError, 400, 'invalid_request_error'],
  ])('%s surfaces as the SDK typed error', async (model, errorClass, status, type) => {
    const error = await request(model).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ status, type });
    expect((error as APIError).requestID).toMatch(/^req_/);
  });

  it('sends retry-after on 429 and a param on 400', async () => {
    const rateLimited = (await request('fake-429').catch((caught: unknown) => caught)) as RateLimitError;
    expect(rateLimited.headers?.get('retry-after')).toBe('7');
    expect(rateLimited.code).toBe('rate_limit_exceeded');
    const badRequest = (await request('fake-400').catch((caught: unknown) => caught)) as BadRequestError;
    expect(badRequest.param).toBe('temperature');
  });

  it('rejects a wrong key and an unknown path like OpenAI', async () => {
    const wrongKey = new OpenAI({ baseURL: fake.url, apiKey: 'sk-wrong-key-123456', maxRetries: 0 });
    const unauthorised = await wrongKey.models.list().catch((caught: unknown) => caught);
    expect(unauthorised).toBeInstanceOf(AuthenticationError);
    expect(unauthorised).toMatchObject({ code: 'invalid_api_key' });

    const missing = await client.get('/no/such/path').catch((caught: unknown) => caught);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).message).toContain('Invalid URL (GET /v1/no/such/path)');
  });

  it('fake-stream-error throws the error body after one chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'fake-stream-error', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const seen: ChatCompletionChunk[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk);
    })().catch((caught: unknown) => caught);
    expect(seen).toHaveLength(1);
    expect(seen[0].choices[0].delta).toMatchObject({ role: 'assistant', content: 'You' });
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ type: 'server_error' });
  });

  it('fake-cut-after-first-chunk delivers one chunk, then the connection fails', async () => {
    const stream = await client.chat.completions.create({ model: 'fake-cut-after-first-chunk', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const seen: ChatCompletionChunk[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk);
    })().catch((caught: unknown) => caught);
    expect(seen).toHaveLength(1);
    expect(error).toBeInstanceOf(Error);
    expect(fake.requests.at(-1)?.aborted).toBe(false);
  });

  it('fake-empty-stream yields nothing and fake-no-usage never reports usage', async () => {
    const empty = await client.chat.completions.create({ model: 'fake-empty-stream', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(await collect(empty)).toEqual([]);

    const noUsage = await client.chat.completions.create({
      model: 'fake-no-usage',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(noUsage);
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.every((chunk) => chunk.usage === undefined && chunk.choices.length === 1)).toBe(true);
    expect((await request('fake-no-usage')).usage).toBeUndefined();
  });

  it('fake-slow answers after two seconds, and notices a client that gives up', async () => {
    const started = Date.now();
    const slow = await request('fake-slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(slow.choices[0].message.content).toBe('You said: hi');

    const timedOut = await client.chat.completions
      .create({ model: 'fake-slow', messages: [{ role: 'user', content: 'hi' }] }, { timeout: 100 })
      .catch((caught: unknown) => caught);
    expect(timedOut).toBeInstanceOf(APIConnectionTimeoutError);
    const abandoned = fake.requests.at(-1);
    await vi.waitFor(() => expect(abandoned?.aborted).toBe(true));
  });
});
