// The official `openai` Node SDK against Sluice, used exactly as a user who only changed `baseURL` would.
import OpenAI, { toFile } from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RecordedRequest } from '../fakes/fake-openai.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let sluice: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  sluice = await startTestGateway();
  // maxRetries: 0 so a 429 or 503 is seen as the gateway sent it, not hidden behind SDK retries.
  client = new OpenAI({ baseURL: sluice.baseURL, apiKey: sluice.apiKey, maxRetries: 0 });
});
afterAll(() => sluice.close());

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  },
};

function lastRequestTo(fake: { requests: RecordedRequest[] }, path: string): RecordedRequest {
  const found = fake.requests.filter((request) => request.path === path).at(-1);
  if (!found) throw new Error(`the fake saw no request to ${path}`);
  return found;
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

function norm(vector: number[]): number {
  return Math.hypot(...vector);
}

describe('chat completions (JSON)', () => {
  it('answers with n choices and forwards seed and user', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'two of them please' }],
      n: 2,
      seed: 42,
      user: 'user-1234',
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1]);
    for (const choice of completion.choices) {
      expect(choice.message).toMatchObject({ role: 'assistant', content: 'You said: two of them please' });
      expect(choice.finish_reason).toBe('stop');
    }
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    const sent = lastRequestTo(sluice.openai, '/v1/chat/completions').body as Record<string, unknown>;
    expect(sent).toMatchObject({ model: 'gpt-4o', n: 2, seed: 42, user: 'user-1234' });
  });

  it('honours stop', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'alpha beta gamma delta' }],
      stop: [' gamma'],
    });
    expect(completion.choices[0].message.content).toBe('You said: alpha beta');
    expect(completion.choices[0].finish_reason).toBe('stop');
  });

  it('honours max_tokens with finish_reason length', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'alpha beta gamma delta' }],
      max_tokens: 3,
    });
    expect(completion.choices[0].message.content).toBe('You said: alpha');
    expect(completion.choices[0].finish_reason).toBe('length');
  });

  it('exposes the x-sluice-* headers through .withResponse()', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'headers please' }] })
      .withResponse();
    expect(data.choices[0].message.content).toBe('You said: headers please');
    expect(response.headers.get('x-sluice-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(response.headers.get('x-sluice-route')).toBe('openai');
    expect(response.headers.get('x-sluice-model')).toBe('gpt-4o');
    const costUsd = Number(response.headers.get('x-sluice-cost-usd'));
    expect(Number.isFinite(costUsd)).toBe(true);
    expect(costUsd).toBeGreaterThan(0);
  });

  it('answers in json_object mode with content that parses', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'reply in JSON' }],
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(completion.choices[0].message.content ?? '')).toEqual({ answer: 'You said: reply in JSON' });
  });

  it('parses a zod response format with chat.completions.parse()', async () => {
    const Weather = z.object({ city: z.string(), temperatureC: z.number(), conditions: z.array(z.enum(['sunny', 'rainy'])) });
    const completion = await client.chat.completions.parse({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Weather in Paris as JSON' }],
      response_format: zodResponseFormat(Weather, 'weather'),
    });
    const message = completion.choices[0].message;
    expect(message.refusal).toBeNull();
    expect(message.parsed).toEqual({ city: 'x', temperatureC: 1, conditions: ['sunny'] });
    const sent = lastRequestTo(sluice.openai, '/v1/chat/completions').body as { response_format: { type: string; json_schema: { name: string; strict: boolean } } };
    expect(sent.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'weather', strict: true } });
  });

  it('answers the same prompt through Claude, translated by Sluice', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'claude-3-5-sonnet-latest', messages: [{ role: 'user', content: 'hello from the openai sdk' }] })
      .withResponse();
    expect(response.headers.get('x-sluice-route')).toBe('anthropic');
    expect(response.headers.get('x-sluice-model')).toBe('claude-3-5-sonnet-latest');
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0].message).toMatchObject({ role: 'assistant', content: 'You said: hello from the openai sdk' });
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('falls back from a 503 to DeepSeek and says so in the headers', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'flaky-503', messages: [{ role: 'user', content: 'are you there' }] })
      .withResponse();
    expect(data.choices[0].message.content).toBe('You said: are you there');
    expect(response.headers.get('x-sluice-model')).toBe('deepseek-chat');
    expect(response.headers.get('x-sluice-route')).toBe('deepseek');
    expect(response.headers.get('x-sluice-fallback-from')).toBe('flaky-503');
    expect(sluice.deepseek.calls('/chat/completions')).toBeGreaterThan(0);
  });
});

describe('chat completions (stream)', () => {
  it('drives the stream() helper: content events and finalChatCompletion()', async () => {
    const deltas: string[] = [];
    const snapshots: string[] = [];
    const stream = client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'stream these words to me' }] });
    stream.on('content', (delta, snapshot) => {
      deltas.push(delta);
      snapshots.push(snapshot);
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].message.content).toBe('You said: stream these words to me');
    expect(final.choices[0].finish_reason).toBe('stop');
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe('You said: stream these words to me');
    expect(snapshots.at(-1)).toBe('You said: stream these words to me');
  });

  it('sends a usage chunk only when stream_options.include_usage is set', async () => {
    const collect = async (includeUsage: boolean) => {
      const chunks: ChatCompletionChunk[] = [];
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'count my tokens' }],
        stream: true,
        ...(includeUsage && { stream_options: { include_usage: true } }),
      });
      for await (const chunk of stream) chunks.push(chunk);
      return chunks;
    };

    const withUsage = await collect(true);
    const usageChunks = withUsage.filter((chunk) => chunk.usage);
    expect(usageChunks).toHaveLength(1);
    const last = withUsage.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
    expect(withUsage.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('You said: count my tokens');

    const withoutUsage = await collect(false);
    expect(withoutUsage.length).toBeGreaterThan(1);
    expect(withoutUsage.every((chunk) => chunk.usage === undefined || chunk.usage === null)).toBe(true);
    expect(withoutUsage.every((chunk) => chunk.choices.length > 0)).toBe(true);
    expect(withoutUsage.map((chunk) => chunk.choices[0].delta.content ?? '').join('')).toBe('You said: count my tokens');
  });

  it('streams tool-call deltas that assemble into complete calls', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Use get_weather for Paris' }],
      tools: [weatherTool],
      stream: true,
    });
    const calls = new Map<number, { id?: string; name: string; arguments: string }>();
    let finishReason: string | null = null;
    let argumentDeltas = 0;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      finishReason = choice.finish_reason ?? finishReason;
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { name: '', arguments: '' };
        call.id ??= delta.id;
        call.name += delta.function?.name ?? '';
        if (delta.function?.arguments) argumentDeltas++;
        call.arguments += delta.function?.arguments ?? '';
        calls.set(delta.index, call);
      }
    }
    expect(finishReason).toBe('tool_calls');
    expect(argumentDeltas).toBeGreaterThan(1);
    expect([...calls.values()]).toHaveLength(1);
    const [call] = calls.values();
    expect(call.id).toMatch(/^call_/);
    expect(call.name).toBe('get_weather');
    expect(JSON.parse(call.arguments)).toEqual({ city: 'x' });
  });

  it('runs a streamed tool loop with runTools()', async () => {
    const seen: unknown[] = [];
    const runner = client.chat.completions.runTools({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'Please call get_weather and tell me' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather for a city',
            parameters: weatherTool.function.parameters,
            parse: (input: string) => JSON.parse(input) as { city: string },
            function: (args: { city: string }) => {
              seen.push(args);
              return { city: args.city, temperatureC: 21 };
            },
          },
        },
      ],
    });
    const finalContent = await runner.finalContent();
    expect(seen).toEqual([{ city: 'x' }]);
    expect(finalContent).toBe('You said: Please call get_weather and tell me');
    const toolMessage = runner.messages.find((message) => message.role === 'tool');
    expect(toolMessage && JSON.parse(String(toolMessage.content))).toEqual({ city: 'x', temperatureC: 21 });
    // The loop made two calls through Sluice: the tool call, then the answer after the tool result.
    const lastSent = lastRequestTo(sluice.openai, '/v1/chat/completions').body as { messages: { role: string }[] };
    expect(lastSent.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
  });

  it('throws from the iterator, rather than hanging, when the upstream stream is cut', async () => {
    const stream = await client.chat.completions.create({
      model: 'cut-stream',
      messages: [{ role: 'user', content: 'this will be cut short' }],
      stream: true,
    });
    const received: string[] = [];
    const error = await failureOf(
      (async () => {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(received.join('')).toBe('You');
  }, 10_000);
});

describe('embeddings', () => {
  const text = 'the quick brown fox';

  it('decodes the default base64 answer into floats', async () => {
    // A fetch that keeps a copy of what went over the wire, to see the SDK's own default at work.
    const wire: { sent?: Record<string, unknown>; received?: { data: { embedding: unknown }[] } } = {};
    const recording = new OpenAI({
      baseURL: sluice.baseURL,
      apiKey: sluice.apiKey,
      maxRetries: 0,
      fetch: async (url, init) => {
        wire.sent = JSON.parse(String(init?.body));
        const answer = await fetch(url, init);
        wire.received = await answer.clone().json();
        return answer;
      },
    });
    const response = await recording.embeddings.create({ model: 'text-embedding-3-small', input: text });
    expect(wire.sent?.encoding_format).toBe('base64');
    expect(typeof wire.received?.data[0].embedding).toBe('string');
    expect(response.object).toBe('list');
    expect(response.model).toBe('text-embedding-3-small');
    const [item] = response.data;
    expect(Array.isArray(item.embedding)).toBe(true);
    expect(item.embedding).toHaveLength(1536);
    expect(norm(item.embedding)).toBeCloseTo(1, 4);
    expect(response.usage.prompt_tokens).toBe(4);
  });

  it('returns floats on request, equal to the base64 path', async () => {
    const [asFloat, asDefault] = await Promise.all([
      client.embeddings.create({ model: 'text-embedding-3-small', input: [text, 'another text'], encoding_format: 'float' }),
      client.embeddings.create({ model: 'text-embedding-3-small', input: [text, 'another text'] }),
    ]);
    expect(asFloat.data.map((item) => item.index)).toEqual([0, 1]);
    expect(asFloat.data[0].embedding).toHaveLength(1536);
    asFloat.data[0].embedding.forEach((value, index) => expect(value).toBeCloseTo(asDefault.data[0].embedding[index], 6));
    expect(asFloat.data[0].embedding).not.toEqual(asFloat.data[1].embedding);
  });

  it('shortens to dimensions: 256', async () => {
    const response = await client.embeddings.create({ model: 'text-embedding-3-small', input: text, dimensions: 256 });
    expect(response.data[0].embedding).toHaveLength(256);
    expect(norm(response.data[0].embedding)).toBeCloseTo(1, 4);
  });

  it('accepts token arrays', async () => {
    const single = await client.embeddings.create({ model: 'text-embedding-3-small', input: [1, 2, 3] });
    expect(single.data).toHaveLength(1);
    expect(single.data[0].embedding).toHaveLength(1536);
    const batch = await client.embeddings.create({ model: 'text-embedding-3-small', input: [[1, 2], [3, 4, 5]] });
    expect(batch.data.map((item) => item.embedding.length)).toEqual([1536, 1536]);
    expect(batch.usage.prompt_tokens).toBe(5);
  });
});

describe('transcription', () => {
  const spoken = 'Hello there. This is Sluice speaking.';
  const upload = () => toFile(Buffer.from(spoken, 'utf8'), 'speech.mp3', { type: 'audio/mpeg' });

  /** `1\n00:00:00,000 --> 00:00:02,000\nHello there.` blocks → cues. */
  function parseCues(body: string, separator: ',' | '.') {
    const time = separator === ',' ? '\\d{2}:\\d{2}:\\d{2},\\d{3}' : '\\d{2}:\\d{2}:\\d{2}\\.\\d{3}';
    const pattern = new RegExp(`(?:(\\d+)\\n)?(${time}) --> (${time})\\n(.+)`, 'g');
    return [...body.matchAll(pattern)].map((match) => ({ index: match[1] ? Number(match[1]) : undefined, start: match[2], end: match[3], text: match[4].trim() }));
  }

  it('answers json', async () => {
    const transcription = await client.audio.transcriptions.create({ model: 'whisper-1', file: await upload() });
    expect(transcription.text).toBe(spoken);
  });

  it('answers text', async () => {
    const transcription = await client.audio.transcriptions.create({ model: 'whisper-1', file: await upload(), response_format: 'text' });
    expect(typeof transcription).toBe('string');
    expect(transcription.trim()).toBe(spoken);
  });

  it('answers srt with numbered cues and comma timestamps', async () => {
    const srt = await client.audio.transcriptions.create({ model: 'whisper-1', file: await upload(), response_format: 'srt' });
    expect(typeof srt).toBe('string');
    expect(parseCues(srt, ',')).toEqual([
      { index: 1, start: '00:00:00,000', end: '00:00:02,000', text: 'Hello there.' },
      { index: 2, start: '00:00:02,000', end: '00:00:04,000', text: 'This is Sluice speaking.' },
    ]);
  });

  it('answers vtt with a WEBVTT header and dot timestamps', async () => {
    const vtt = await client.audio.transcriptions.create({ model: 'whisper-1', file: await upload(), response_format: 'vtt' });
    expect(vtt.startsWith('WEBVTT\n')).toBe(true);
    expect(parseCues(vtt, '.')).toEqual([
      { index: undefined, start: '00:00:00.000', end: '00:00:02.000', text: 'Hello there.' },
      { index: undefined, start: '00:00:02.000', end: '00:00:04.000', text: 'This is Sluice speaking.' },
    ]);
  });

  it('answers verbose_json with segments and words', async () => {
    const transcription = await client.audio.transcriptions.create({
      model: 'whisper-1',
      file: await upload(),
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
      language: 'en',
    });
    expect(transcription.text).toBe(spoken);
    expect(transcription.language).toBe('english');
    expect(transcription.duration).toBe(4);
    expect(transcription.segments?.map((segment) => [segment.start, segment.end, segment.text.trim()])).toEqual([
      [0, 2, 'Hello there.'],
      [2, 4, 'This is Sluice speaking.'],
    ]);
    expect(transcription.words?.map((word) => word.word)).toEqual(['Hello', 'there', 'This', 'is', 'Sluice', 'speaking']);
  });
});

describe('errors arrive as typed SDK errors', () => {
  it('an unknown model is a NotFoundError with code model_not_found', async () => {
    const error = await failureOf(client.chat.completions.create({ model: 'gpt-9-imaginary', messages: [{ role: 'user', content: 'hi' }] }));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const notFound = error as InstanceType<typeof OpenAI.NotFoundError>;
    expect(notFound.status).toBe(404);
    expect(notFound.code).toBe('model_not_found');
    expect(notFound.param).toBe('model');
    expect(notFound.headers.get('x-sluice-request-id')).toMatch(/^req_/);
  });

  it('a bad parameter is a BadRequestError naming the param', async () => {
    const error = await failureOf(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], temperature: 7 }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const badRequest = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(badRequest.status).toBe(400);
    expect(badRequest.param).toBe('temperature');
    expect(badRequest.type).toBe('invalid_request_error');
    expect(sluice.openai.requests.some((request) => (request.body as { temperature?: number } | undefined)?.temperature === 7)).toBe(false);
  });

  it('a rate-limited upstream is a RateLimitError with retry-after', async () => {
    const error = await failureOf(client.chat.completions.create({ model: 'only-429', messages: [{ role: 'user', content: 'hi' }] }));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimited = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimited.status).toBe(429);
    expect(rateLimited.headers.get('retry-after')).toBe('7');
  });
});

describe('passthrough and models', () => {
  it('uploads a file through to OpenAI with the upstream key', async () => {
    const content = '{"messages":[{"role":"user","content":"hi"}]}\n';
    const created = await client.files.create({ file: await toFile(Buffer.from(content), 'train.jsonl'), purpose: 'fine-tune' });
    expect(created).toMatchObject({ object: 'file', filename: 'train.jsonl', purpose: 'fine-tune', bytes: Buffer.byteLength(content) });
    expect(created.id).toMatch(/^file-/);
    const sent = lastRequestTo(sluice.openai, '/v1/files');
    expect(sent.headers.authorization).toBe(`Bearer ${sluice.openai.apiKey}`);
    expect(sent.headers.authorization).not.toContain(sluice.apiKey);
    expect(sent.body).toMatchObject({ purpose: 'fine-tune', file: { filename: 'train.jsonl', size: Buffer.byteLength(content) } });
  });

  it('passes moderations through with the upstream key', async () => {
    const moderation = await client.moderations.create({ model: 'omni-moderation-latest', input: ['I will kill this process', 'a quiet afternoon'] });
    expect(moderation.results.map((result) => result.flagged)).toEqual([true, false]);
    expect(moderation.results[0].categories.violence).toBe(true);
    const sent = lastRequestTo(sluice.openai, '/v1/moderations');
    expect(sent.headers.authorization).toBe(`Bearer ${sluice.openai.apiKey}`);
  });

  it('lists the configured models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o', 'gpt-4o-mini', 'deepseek-chat', 'claude-3-5-sonnet-latest', 'text-embedding-3-small', 'whisper-1', 'auto']));
    // Sluice's catalogue, not the upstream's: the fake's extra models are not listed.
    expect(ids).not.toContain('o3-mini');
    const model = await client.models.retrieve('claude-3-5-sonnet-latest');
    expect(model).toMatchObject({ id: 'claude-3-5-sonnet-latest', object: 'model', owned_by: 'anthropic' });
  });
});
