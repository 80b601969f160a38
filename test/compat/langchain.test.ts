// LangChain's OpenAI integration against Sluice: `ChatOpenAI` and `OpenAIEmbeddings` with `configuration.baseURL`.
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RecordedRequest } from '../fakes/fake-openai.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let sluice: TestGateway;

beforeAll(async () => {
  sluice = await startTestGateway();
});
afterAll(() => sluice.close());

function chat(model = 'gpt-4o'): ChatOpenAI {
  return new ChatOpenAI({ model, apiKey: sluice.apiKey, configuration: { baseURL: sluice.baseURL }, maxRetries: 0 });
}

function lastChatRequest(): Record<string, unknown> {
  const found = sluice.openai.requests.filter((request: RecordedRequest) => request.path === '/v1/chat/completions').at(-1);
  if (!found) throw new Error('the OpenAI fake saw no chat request');
  return found.body as Record<string, unknown>;
}

const Weather = z.object({
  city: z.string().describe('the city'),
  temperatureC: z.number().describe('degrees Celsius'),
  conditions: z.enum(['sunny', 'rainy']),
});

const getWeather = tool(async ({ city }: { city: string }) => JSON.stringify({ city, temperatureC: 21 }), {
  name: 'get_weather',
  description: 'Current weather for a city',
  schema: z.object({ city: z.string() }),
});

describe('LangChain ChatOpenAI', () => {
  it('invoke answers with content and usage metadata', async () => {
    const message = await chat().invoke([new SystemMessage('Be brief.'), new HumanMessage('hello from langchain')]);
    expect(message).toBeInstanceOf(AIMessage);
    expect(message.content).toBe('You said: hello from langchain');
    expect(message.usage_metadata).toMatchObject({ input_tokens: 5, output_tokens: 5, total_tokens: 10 });
    expect(message.response_metadata.finish_reason).toBe('stop');
  });

  it('invoke reaches Claude through Sluice', async () => {
    const message = await chat('claude-3-5-sonnet-latest').invoke('hello claude from langchain');
    expect(message.content).toBe('You said: hello claude from langchain');
  });

  it('stream yields chunks that concatenate to the answer', async () => {
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await chat().stream('stream for langchain please')) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(3);
    const joined = chunks.reduce((whole, chunk) => whole.concat(chunk));
    expect(joined.content).toBe('You said: stream for langchain please');
    // LangChain asks for stream_options.include_usage; the usage comes from Sluice's usage chunk.
    expect(joined.usage_metadata).toMatchObject({ input_tokens: 4, output_tokens: 6, total_tokens: 10 });
  });

  it('withStructuredOutput(zod) returns a parsed object (json_schema)', async () => {
    const structured = chat().withStructuredOutput(Weather, { name: 'weather' });
    const weather = await structured.invoke('Weather in Paris');
    expect(weather).toEqual({ city: 'x', temperatureC: 1, conditions: 'sunny' });
    expect(lastChatRequest().response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'weather' } });
  });

  it('withStructuredOutput(zod, functionCalling) returns a parsed object from a forced tool call', async () => {
    const structured = chat().withStructuredOutput(Weather, { name: 'weather', method: 'functionCalling' });
    const weather = await structured.invoke('Weather in Paris');
    expect(weather).toEqual({ city: 'x', temperatureC: 1, conditions: 'sunny' });
    expect(lastChatRequest().tool_choice).toMatchObject({ type: 'function', function: { name: 'weather' } });
  });

  it('bindTools: the model calls the tool, and answers after its result', async () => {
    const model = chat().bindTools([getWeather]);
    const question = new HumanMessage('Use get_weather for Paris');
    const first = await model.invoke([question]);
    expect(first.tool_calls).toHaveLength(1);
    const [call] = first.tool_calls!;
    expect(call).toMatchObject({ name: 'get_weather', args: { city: 'x' }, type: 'tool_call' });
    expect(call.id).toMatch(/^call_/);

    const toolMessage = await getWeather.invoke(call);
    expect(toolMessage).toBeInstanceOf(ToolMessage);
    const second = await model.invoke([question, first, toolMessage]);
    expect(second.tool_calls ?? []).toHaveLength(0);
    expect(second.content).toBe('You said: Use get_weather for Paris');
    expect((lastChatRequest().messages as { role: string }[]).map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
  });

  it('bindTools runs the same tool loop through Claude', async () => {
    const model = chat('claude-3-5-sonnet-latest').bindTools([getWeather]);
    const question = new HumanMessage('Use get_weather for Lima');
    const first = await model.invoke([question]);
    // The Anthropic fake fills string arguments with the prompt, and answers a tool result with `Tool said: …`.
    expect(first.tool_calls?.map((call) => [call.name, call.args])).toEqual([['get_weather', { city: 'Use get_weather for Lima' }]]);
    expect(first.tool_calls![0].id).toMatch(/^toolu_/);
    const second = await model.invoke([question, first, await getWeather.invoke(first.tool_calls![0])]);
    expect(second.tool_calls ?? []).toHaveLength(0);
    expect(second.content).toMatch(/^Tool said: .*"temperatureC":21/);
  });

  it('bindTools while streaming assembles the tool call', async () => {
    const stream = await chat().bindTools([getWeather]).stream('Use get_weather for Rome');
    let joined: AIMessageChunk | undefined;
    for await (const chunk of stream) joined = joined ? joined.concat(chunk) : chunk;
    expect(joined?.tool_calls?.map((call) => [call.name, call.args])).toEqual([['get_weather', { city: 'x' }]]);
  });
});

describe('LangChain OpenAIEmbeddings', () => {
  const embeddings = () =>
    new OpenAIEmbeddings({ model: 'text-embedding-3-small', apiKey: sluice?.apiKey, configuration: { baseURL: sluice?.baseURL }, maxRetries: 0 });

  it('embedQuery returns one unit vector', async () => {
    const vector = await embeddings().embedQuery('the quick brown fox');
    expect(vector).toHaveLength(1536);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 4);
  });

  it('embedDocuments returns one vector per document, in order', async () => {
    const [fox, dog, foxAgain] = await embeddings().embedDocuments(['the quick brown fox', 'a lazy dog', 'the quick brown fox']);
    expect([fox, dog, foxAgain].map((vector) => vector.length)).toEqual([1536, 1536, 1536]);
    fox.forEach((value, index) => expect(value).toBeCloseTo(foxAgain[index], 6));
    expect(fox).not.toEqual(dog);
    const query = await embeddings().embedQuery('the quick brown fox');
    query.forEach((value, index) => expect(value).toBeCloseTo(fox[index], 6));
  });

  it('honours dimensions', async () => {
    const short = new OpenAIEmbeddings({
      model: 'text-embedding-3-small',
      dimensions: 256,
      apiKey: sluice.apiKey,
      configuration: { baseURL: sluice.baseURL },
      maxRetries: 0,
    });
    expect(await short.embedQuery('shorter please')).toHaveLength(256);
  });
});
