// The Vercel AI SDK's OpenAI provider against Sluice: `createOpenAI({ baseURL })`, chat-completions API.
import { createOpenAI, type OpenAIProvider } from '@ai-sdk/openai';
import {
  embed,
  embedMany,
  experimental_transcribe as transcribe,
  generateObject,
  generateText,
  Output,
  stepCountIs,
  streamText,
  tool,
} from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RecordedRequest } from '../fakes/fake-openai.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let sluice: TestGateway;
let openai: OpenAIProvider;

beforeAll(async () => {
  sluice = await startTestGateway();
  openai = createOpenAI({ baseURL: sluice.baseURL, apiKey: sluice.apiKey });
});
afterAll(() => sluice.close());

const Weather = z.object({ city: z.string(), temperatureC: z.number(), conditions: z.enum(['sunny', 'rainy']) });

function lastChatRequest(): Record<string, unknown> {
  const found = sluice.openai.requests.filter((request: RecordedRequest) => request.path === '/v1/chat/completions').at(-1);
  if (!found) throw new Error('the OpenAI fake saw no chat request');
  return found.body as Record<string, unknown>;
}

describe('Vercel AI SDK (@ai-sdk/openai chat model)', () => {
  it('generateText answers, with usage and the x-sluice-* headers', async () => {
    const result = await generateText({ model: openai.chat('gpt-4o'), prompt: 'hello from vercel', maxRetries: 0 });
    expect(result.text).toBe('You said: hello from vercel');
    expect(result.finishReason).toBe('stop');
    expect(result.usage.inputTokens).toBe(3);
    expect(result.usage.outputTokens).toBe(5);
    expect(result.response.headers?.['x-sluice-route']).toBe('openai');
    expect(result.response.headers?.['x-sluice-model']).toBe('gpt-4o');
  });

  it('generateText reaches Claude through Sluice', async () => {
    const result = await generateText({ model: openai.chat('claude-3-5-sonnet-latest'), system: 'Be brief.', prompt: 'hello claude', maxRetries: 0 });
    expect(result.text).toBe('You said: hello claude');
    expect(result.response.headers?.['x-sluice-route']).toBe('anthropic');
  });

  it('streamText streams the text in pieces, with usage at the end', async () => {
    const result = streamText({ model: openai.chat('gpt-4o'), prompt: 'stream for vercel please', maxRetries: 0 });
    const pieces: string[] = [];
    for await (const piece of result.textStream) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join('')).toBe('You said: stream for vercel please');
    expect(await result.finishReason).toBe('stop');
    // The provider asks for stream_options.include_usage; these counts come from Sluice's usage chunk.
    expect(await result.usage).toMatchObject({ inputTokens: 4, outputTokens: 6, totalTokens: 10 });
  });

  it('generateObject returns an object matching the zod schema', async () => {
    const { object } = await generateObject({ model: openai.chat('gpt-4o'), schema: Weather, prompt: 'Weather in Paris', maxRetries: 0 });
    expect(object).toEqual({ city: 'x', temperatureC: 1, conditions: 'sunny' });
    expect(lastChatRequest().response_format).toMatchObject({ type: 'json_schema' });
  });

  it('generateText with Output.object returns the parsed output', async () => {
    const result = await generateText({
      model: openai.chat('gpt-4o'),
      output: Output.object({ schema: Weather }),
      prompt: 'Weather in Oslo',
      maxRetries: 0,
    });
    expect(result.output).toEqual({ city: 'x', temperatureC: 1, conditions: 'sunny' });
  });

  it('calls a zod-typed tool and answers after its result', async () => {
    const calls: unknown[] = [];
    const result = await generateText({
      model: openai.chat('gpt-4o'),
      prompt: 'Use getWeather for Paris',
      tools: {
        getWeather: tool({
          description: 'Current weather for a city',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            calls.push({ city });
            return { city, temperatureC: 21 };
          },
        }),
      },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    expect(calls).toEqual([{ city: 'x' }]);
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0].finishReason).toBe('tool-calls');
    expect(result.steps[0].toolCalls.map((call) => [call.toolName, call.input])).toEqual([['getWeather', { city: 'x' }]]);
    expect(result.steps[0].toolResults.map((toolResult) => toolResult.output)).toEqual([{ city: 'x', temperatureC: 21 }]);
    expect(result.text).toBe('You said: Use getWeather for Paris');
    const roles = (lastChatRequest().messages as { role: string }[]).map((message) => message.role);
    expect(roles).toEqual(['user', 'assistant', 'tool']);
  });

  it('streams a tool call', async () => {
    const result = streamText({
      model: openai.chat('gpt-4o'),
      prompt: 'Use getWeather for Rome',
      tools: { getWeather: tool({ description: 'Current weather', inputSchema: z.object({ city: z.string() }) }) },
      maxRetries: 0,
    });
    const calls = await result.toolCalls;
    expect(calls.map((call) => [call.toolName, call.input])).toEqual([['getWeather', { city: 'x' }]]);
    expect(await result.finishReason).toBe('tool-calls');
  });

  it('embed and embedMany return unit vectors', async () => {
    const model = openai.embedding('text-embedding-3-small');
    const single = await embed({ model, value: 'the quick brown fox', maxRetries: 0 });
    expect(single.embedding).toHaveLength(1536);
    expect(Math.hypot(...single.embedding)).toBeCloseTo(1, 4);
    expect(single.usage.tokens).toBe(4);

    const many = await embedMany({ model, values: ['the quick brown fox', 'a lazy dog', 'the quick brown fox'], maxRetries: 0 });
    expect(many.embeddings).toHaveLength(3);
    expect(many.embeddings.map((vector) => vector.length)).toEqual([1536, 1536, 1536]);
    many.embeddings[0].forEach((value, index) => expect(value).toBeCloseTo(many.embeddings[2][index], 6));
    expect(many.embeddings[0]).not.toEqual(many.embeddings[1]);
    single.embedding.forEach((value, index) => expect(value).toBeCloseTo(many.embeddings[0][index], 6));
  });

  it('embed honours providerOptions dimensions', async () => {
    const { embedding } = await embed({
      model: openai.embedding('text-embedding-3-small'),
      value: 'shorter please',
      providerOptions: { openai: { dimensions: 256 } },
      maxRetries: 0,
    });
    expect(embedding).toHaveLength(256);
  });

  it('transcribes an upload', async () => {
    const result = await transcribe({
      model: openai.transcription('whisper-1'),
      audio: new Uint8Array(Buffer.from('Hello there. This is Sluice speaking.')),
      // With provider options set, the provider asks for verbose_json and so gets segments.
      providerOptions: { openai: { language: 'en', timestampGranularities: ['segment'] } },
      maxRetries: 0,
    });
    expect(result.text).toBe('Hello there. This is Sluice speaking.');
    expect(result.language).toBe('en');
    expect(result.durationInSeconds).toBe(4);
    expect(result.segments.map((segment) => segment.text.trim())).toEqual(['Hello there.', 'This is Sluice speaking.']);
  });
});
