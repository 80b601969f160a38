import type { Message, StopReason } from '@anthropic-ai/sdk/resources/messages';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AnthropicStreamTranslator,
  toChatCompletion,
  toFinishReason,
  type AnthropicStreamEvent,
} from '../../../../adapters/anthropic/anthropic-to-openai.js';
import { SluiceError, type ChatCompletionChunk } from '../../../../adapters/spec/index.js';

const CREATED = 1_760_000_000;

/** Shaped like a real Messages API answer (unused fields kept, as the API sends them). */
function message(content: unknown[], stopReason: StopReason, usage: Record<string, unknown> = {}): Message {
  return {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: 25,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 12,
      service_tier: 'standard',
      ...usage,
    },
  } as unknown as Message;
}

describe('toChatCompletion', () => {
  it('joins text blocks into the content', () => {
    const completion = toChatCompletion(
      message(
        [
          { type: 'text', text: 'Hello! ', citations: null },
          { type: 'text', text: 'How can I help?', citations: null },
        ],
        'end_turn',
      ),
      { createdSeconds: CREATED },
    );
    expect(completion).toEqual({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      object: 'chat.completion',
      created: CREATED,
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello! How can I help?', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 25, completion_tokens: 12, total_tokens: 37, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  it('turns tool_use blocks into tool calls with JSON-string arguments', () => {
    const completion = toChatCompletion(
      message(
        [
          { type: 'text', text: "I'll check the weather.", citations: null },
          { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } },
          { type: 'tool_use', id: 'toolu_01B', name: 'get_time', input: {} },
        ],
        'tool_use',
      ),
      { createdSeconds: CREATED },
    );
    const choice = completion.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe("I'll check the weather.");
    expect(choice.message.tool_calls).toEqual([
      { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: expect.any(String) } },
      { id: 'toolu_01B', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    expect(JSON.parse(choice.message.tool_calls![0].function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' });
  });

  it('counts cached prompt tokens inside prompt_tokens', () => {
    const completion = toChatCompletion(
      message([{ type: 'text', text: 'ok', citations: null }], 'end_turn', {
        input_tokens: 10,
        cache_read_input_tokens: 1000,
        cache_creation_input_tokens: 200,
        output_tokens: 5,
      }),
      { createdSeconds: CREATED },
    );
    expect(completion.usage).toEqual({
      prompt_tokens: 1210,
      completion_tokens: 5,
      total_tokens: 1215,
      prompt_tokens_details: { cached_tokens: 1000 },
    });
  });

  it('answers JSON mode with the forced tool input as content and a normal stop', () => {
    const completion = toChatCompletion(
      message([{ type: 'tool_use', id: 'toolu_1', name: 'json_response', input: { answer: 4, unit: null } }], 'tool_use'),
      { createdSeconds: CREATED, jsonToolName: 'json_response' },
    );
    const choice = completion.choices[0];
    expect(choice.finish_reason).toBe('stop');
    expect(choice.message.tool_calls).toBeUndefined();
    expect(JSON.parse(choice.message.content!)).toEqual({ answer: 4, unit: null });
  });

  it.each([
    ['end_turn', false, 'stop'],
    ['stop_sequence', false, 'stop'],
    ['max_tokens', false, 'length'],
    ['model_context_window_exceeded', false, 'length'],
    ['tool_use', true, 'tool_calls'],
    ['tool_use', false, 'stop'],
    ['refusal', false, 'content_filter'],
    ['pause_turn', false, 'stop'],
    [null, false, 'stop'],
  ] as const)('stop_reason %s (tool calls: %s) → %s', (stopReason, hasToolCalls, expected) => {
    expect(toFinishReason(stopReason, hasToolCalls)).toBe(expected);
  });
});

/** A real-looking event sequence: a text block, then tool_use blocks, as the API streams them. */
function streamEvents(textPieces: string[], tools: { name: string; pieces: string[] }[], stopReason: StopReason): AnthropicStreamEvent[] {
  const events: unknown[] = [
    {
      type: 'message_start',
      message: {
        id: 'msg_stream_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-haiku-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 8, output_tokens: 1 },
      },
    },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'ping' },
    ...textPieces.map((text) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
    { type: 'content_block_stop', index: 0 },
  ];
  tools.forEach((tool, offset) => {
    const index = offset + 1;
    events.push(
      { type: 'content_block_start', index, content_block: { type: 'tool_use', id: `toolu_${index}`, name: tool.name, input: {} } },
      ...['', ...tool.pieces].map((partial_json) => ({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } })),
      { type: 'content_block_stop', index },
    );
  });
  events.push(
    { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 42 } },
    { type: 'message_stop' },
  );
  return events as AnthropicStreamEvent[];
}

function translateAll(events: AnthropicStreamEvent[], jsonToolName?: string): ChatCompletionChunk[] {
  const translator = new AnthropicStreamTranslator({ createdSeconds: CREATED, jsonToolName });
  return events.flatMap((event) => translator.translate(event));
}

function joined(chunks: ChatCompletionChunk[]) {
  const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  const argumentsByIndex = new Map<number, string>();
  for (const chunk of chunks) {
    for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
      argumentsByIndex.set(call.index, (argumentsByIndex.get(call.index) ?? '') + (call.function?.arguments ?? ''));
    }
  }
  return { content, toolArguments: [...argumentsByIndex.entries()].sort(([a], [b]) => a - b).map(([, text]) => text) };
}

describe('AnthropicStreamTranslator', () => {
  it('translates a streamed answer with text and tool calls', () => {
    const chunks = translateAll(
      streamEvents(['Let me ', 'check.'], [{ name: 'get_weather', pieces: ['{"city":', ' "Paris"}'] }, { name: 'get_time', pieces: ['{}'] }], 'tool_use'),
    );
    expect(chunks[0]).toEqual({
      id: 'msg_stream_1',
      object: 'chat.completion.chunk',
      created: CREATED,
      model: 'claude-haiku-4-5',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }],
    });
    const starts = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []).filter((call) => call.id);
    expect(starts).toEqual([
      { index: 0, id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 1, id: 'toolu_2', type: 'function', function: { name: 'get_time', arguments: '' } },
    ]);
    expect(joined(chunks)).toEqual({ content: 'Let me check.', toolArguments: ['{"city": "Paris"}', '{}'] });
    const [finish, usage] = chunks.slice(-2);
    expect(finish.choices).toEqual([{ index: 0, delta: {}, finish_reason: 'tool_calls', logprobs: null }]);
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual({ prompt_tokens: 38, completion_tokens: 42, total_tokens: 80, prompt_tokens_details: { cached_tokens: 8 } });
    expect(chunks.every((chunk) => chunk.id === 'msg_stream_1')).toBe(true);
  });

  it('streams the forced JSON tool input as content and finishes with stop', () => {
    const chunks = translateAll(streamEvents([], [{ name: 'json_response', pieces: ['{"answer"', ': 4}'] }], 'tool_use'), 'json_response');
    expect(joined(chunks)).toEqual({ content: '{"answer": 4}', toolArguments: [] });
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
  });

  it('reports completion only after message_stop', () => {
    const translator = new AnthropicStreamTranslator({ createdSeconds: CREATED });
    const events = streamEvents(['hi'], [], 'end_turn');
    events.slice(0, -1).forEach((event) => translator.translate(event));
    expect(translator.isComplete).toBe(false);
    translator.translate(events.at(-1)!);
    expect(translator.isComplete).toBe(true);
  });

  it('throws a SluiceError for an error event', () => {
    const translator = new AnthropicStreamTranslator({ createdSeconds: CREATED, backendId: 'claude' });
    const error = (() => {
      try {
        translator.translate({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).kind).toBe('upstream-unavailable');
    expect((error as SluiceError).message).toBe('claude: Overloaded');
  });

  it('any split of the text and tool input into deltas yields the same joined text and arguments', () => {
    const splits = (value: string) =>
      fc.array(fc.nat({ max: value.length }), { maxLength: 6 }).map((cuts) => {
        const points = [...new Set([0, ...cuts, value.length])].sort((a, b) => a - b);
        return points.slice(1).map((end, index) => value.slice(points[index], end));
      });
    const answer = fc.record({
      text: fc.string({ maxLength: 40 }),
      tools: fc.array(fc.record({ name: fc.constantFrom('a', 'b', 'c'), input: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()) }), {
        maxLength: 3,
      }),
    });
    fc.assert(
      fc.property(
        answer.chain((value) =>
          fc.tuple(
            fc.constant(value),
            splits(value.text),
            fc.tuple(...value.tools.map((tool) => splits(JSON.stringify(tool.input)))),
          ),
        ),
        ([value, textPieces, toolPieces]) => {
          const tools = value.tools.map((tool, index) => ({ name: tool.name, pieces: toolPieces[index] }));
          const chunks = translateAll(streamEvents(textPieces, tools, tools.length > 0 ? 'tool_use' : 'end_turn'));
          const result = joined(chunks);
          expect(result.content).toBe(value.text);
          expect(result.toolArguments).toEqual(value.tools.map((tool) => JSON.stringify(tool.input)));
          expect(chunks.at(-2)?.choices[0].finish_reason).toBe(tools.length > 0 ? 'tool_calls' : 'stop');
        },
      ),
    );
  });
});
