import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JSON_TOOL_NAME, toAnthropicRequest } from '../../../../adapters/anthropic/openai-to-anthropic.js';
import { SluiceError, type ChatMessage, type ChatRequest } from '../../../../adapters/spec/index.js';

const options = { defaultMaxTokens: 4096 };
const translate = (request: Partial<ChatRequest>) =>
  toAnthropicRequest({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }], ...request }, options);

function thrown(action: () => unknown): SluiceError {
  try {
    action();
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected a SluiceError');
}

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('toAnthropicRequest: messages', () => {
  it('moves system and developer messages, in order, into `system`', () => {
    const { body } = translate({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
        { role: 'system', content: 'Never use emoji.' },
      ],
    });
    expect(body.system).toBe('You are terse.\n\nAnswer in French.\n\nNever use emoji.');
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }]);
  });

  it('translates multi-part user content with base64 and URL images', () => {
    const { body } = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/4AAQ' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.webp', detail: 'high' } },
          ],
        },
      ],
    });
    expect(body.messages[0].content).toEqual([
      { type: 'text', text: 'What is in these?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.webp' } },
    ]);
  });

  it.each([
    ['data:image/bmp;base64,Qk0=', 'messages[0].content[0].image_url.url'],
    ['ftp://example.com/cat.png', 'messages[0].content[0].image_url.url'],
  ])('rejects the image %s with its param', (url, param) => {
    const error = thrown(() => translate({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] }));
    expect(error.kind).toBe('invalid-request');
    expect(error.detail.param).toBe(param);
  });

  it('rejects audio parts with their param', () => {
    const error = thrown(() =>
      translate({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] }),
    );
    expect(error.detail.param).toBe('messages[0].content[0].type');
  });

  it('turns tool calls into tool_use blocks and merges consecutive tool results into one user turn', () => {
    const { body } = translate({
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Checking both.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C, clear' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24°C, sunny' }] },
        { role: 'user', content: 'Which is warmer?' },
      ],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18°C, clear' },
          { type: 'tool_result', tool_use_id: 'call_2', content: '24°C, sunny' },
          { type: 'text', text: 'Which is warmer?' },
        ],
      },
    ]);
  });

  it('merges consecutive same-role messages so turns alternate', () => {
    const { body } = translate({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
        { role: 'assistant', content: 'three' },
        { role: 'assistant', content: [{ type: 'text', text: 'four' }] },
      ],
    });
    expect(body.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(body.messages[0].content).toEqual([
      { type: 'text', text: 'one' },
      { type: 'text', text: 'two' },
    ]);
  });

  it.each([
    ['{"city": "Par', 'not valid JSON'],
    ['[1,2]', 'must be a JSON object'],
  ])('rejects tool call arguments %s with the param', (argumentsText, message) => {
    const error = thrown(() =>
      translate({
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: argumentsText } }] },
        ],
      }),
    );
    expect(error.kind).toBe('invalid-request');
    expect(error.message).toContain(message);
    expect(error.detail.param).toBe('messages[1].tool_calls[0].function.arguments');
  });

  it('declares the tools a history uses when the request declares none, and forbids calling them', () => {
    const { body } = translate({
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'lookup', arguments: '' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'found' },
      ],
    });
    expect(body.tools).toEqual([{ name: 'lookup', input_schema: { type: 'object' } }]);
    expect(body.tool_choice).toEqual({ type: 'none' });
  });
});

describe('toAnthropicRequest: parameters', () => {
  it('maps tools, with a default input schema', () => {
    const { body } = translate({ tools: [weatherTool, { type: 'function', function: { name: 'now' } }] });
    expect(body.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Current weather for a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
      { name: 'now', input_schema: { type: 'object' } },
    ]);
  });

  it.each([
    ['none', undefined, { type: 'none' }],
    ['auto', undefined, { type: 'auto' }],
    ['required', undefined, { type: 'any' }],
    [{ type: 'function', function: { name: 'get_weather' } }, undefined, { type: 'tool', name: 'get_weather' }],
    ['auto', false, { type: 'auto', disable_parallel_tool_use: true }],
    ['required', false, { type: 'any', disable_parallel_tool_use: true }],
    [undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
    [undefined, undefined, undefined],
  ] as const)('tool_choice %j with parallel_tool_calls %s → %j', (choice, parallel, expected) => {
    const { body } = translate({ tools: [weatherTool], tool_choice: choice as ChatRequest['tool_choice'], parallel_tool_calls: parallel });
    expect(body.tool_choice).toEqual(expected);
  });

  it.each([
    [{ max_tokens: 100 }, {}, 100],
    [{ max_tokens: 100, max_completion_tokens: 50 }, {}, 50],
    [{}, {}, 4096],
    [{}, { defaultMaxTokens: 1024 }, 1024],
  ])('max tokens from %j with options %j → %d', (fields, extra, expected) => {
    const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x' }], ...fields };
    expect(toAnthropicRequest(request, { ...options, ...extra }).body.max_tokens).toBe(expected);
  });

  it('maps stop, sampling and user', () => {
    expect(translate({ stop: 'END' }).body.stop_sequences).toEqual(['END']);
    expect(translate({ stop: ['a', 'b'] }).body.stop_sequences).toEqual(['a', 'b']);
    expect(translate({ temperature: 1.7 }).body.temperature).toBe(1);
    expect(translate({ temperature: 0.3 }).body.temperature).toBe(0.3);
    expect(translate({ top_p: 0.9 }).body.top_p).toBe(0.9);
    expect(translate({ user: 'user-42' }).body.metadata).toEqual({ user_id: 'user-42' });
    expect(translate({}).body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    });
  });

  it('implements json_object with a forced tool', () => {
    const translation = translate({ response_format: { type: 'json_object' } });
    expect(translation.jsonToolName).toBe(JSON_TOOL_NAME);
    expect(translation.body.tool_choice).toEqual({ type: 'tool', name: JSON_TOOL_NAME });
    expect(translation.body.tools).toEqual([expect.objectContaining({ name: JSON_TOOL_NAME, input_schema: { type: 'object' } })]);
  });

  it('implements json_schema with a forced tool named after the schema', () => {
    const schema = { type: 'object', properties: { answer: { type: 'integer' } }, required: ['answer'] };
    const translation = translate({ response_format: { type: 'json_schema', json_schema: { name: 'math_answer', schema, strict: true } } });
    expect(translation.jsonToolName).toBe('math_answer');
    expect(translation.body.tool_choice).toEqual({ type: 'tool', name: 'math_answer' });
    expect(translation.body.tools).toEqual([expect.objectContaining({ name: 'math_answer', input_schema: schema })]);
  });

  it('lets the model choose between declared tools and the JSON answer', () => {
    const translation = translate({ tools: [weatherTool], response_format: { type: 'json_object' } });
    expect(translation.body.tools).toEqual([
      expect.objectContaining({ name: 'get_weather' }),
      expect.objectContaining({ name: JSON_TOOL_NAME }),
    ]);
    expect(translation.body.tool_choice).toEqual({ type: 'any' });
  });

  it.each([
    [{ n: 2, stream: true }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ top_logprobs: 3 }, 'top_logprobs'],
    [{ messages: [{ role: 'function', name: 'f', content: 'x' }] as ChatMessage[] }, 'messages[0].role'],
    [{ messages: [{ role: 'tool', content: 'x' }] as ChatMessage[] }, 'messages[0].tool_call_id'],
  ])('rejects %j as invalid-request with param %s', (fields, param) => {
    const error = thrown(() => translate(fields));
    expect(error.kind).toBe('invalid-request');
    expect(error.detail.param).toBe(param);
  });

  it('allows n > 1 when not streaming (the adapter fans out)', () => {
    expect(translate({ n: 3 }).body.max_tokens).toBe(4096);
  });
});

describe('toAnthropicRequest: properties', () => {
  const text = fc.string({ minLength: 1, maxLength: 20 });
  const message = fc.oneof(
    fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant'), content: text }),
    fc.record({
      role: fc.constantFrom('user', 'assistant'),
      content: fc.array(text.map((value) => ({ type: 'text' as const, text: value })), { minLength: 1, maxLength: 3 }),
    }),
  ) as fc.Arbitrary<ChatMessage>;

  const textsOf = (content: ChatMessage['content']): string[] =>
    typeof content === 'string' ? [content] : (content ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : []));

  it('keeps every conversation text, in order, and alternates roles', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), (messages) => {
        const { body } = toAnthropicRequest({ model: 'm', messages }, options);
        const isSystem = (entry: ChatMessage) => entry.role === 'system' || entry.role === 'developer';
        const expectedTurns = messages.filter((entry) => !isSystem(entry)).flatMap((entry) => textsOf(entry.content));
        const actualTurns = body.messages.flatMap((turn) =>
          (turn.content as { type: string; text?: string }[]).map((block) => block.text),
        );
        expect(actualTurns).toEqual(expectedTurns);
        const systemTexts = messages.filter(isSystem).map((entry) => textsOf(entry.content).join('\n'));
        expect(body.system).toBe(systemTexts.length > 0 ? systemTexts.join('\n\n') : undefined);
        body.messages.forEach((turn, index) => {
          if (index > 0) expect(turn.role).not.toBe(body.messages[index - 1].role);
        });
      }),
    );
  });

  it('keeps every tool result, and puts tool results first in their user turn', () => {
    const step = fc.oneof(
      text.map((value) => ({ role: 'user', content: value }) as ChatMessage),
      fc.tuple(fc.uuid(), text).map(
        ([id, value]) => ({ role: 'tool', tool_call_id: id, content: value }) as ChatMessage,
      ),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 10 }), (messages) => {
        const { body } = toAnthropicRequest({ model: 'm', messages }, options);
        const blocks = body.messages.flatMap((turn) => turn.content as { type: string; tool_use_id?: string }[]);
        const expectedIds = messages.filter((entry) => entry.role === 'tool').map((entry) => entry.tool_call_id);
        expect(blocks.filter((block) => block.type === 'tool_result').map((block) => block.tool_use_id)).toEqual(expectedIds);
        for (const turn of body.messages) {
          const types = (turn.content as { type: string }[]).map((block) => block.type);
          expect(types.indexOf('text') === -1 || types.lastIndexOf('tool_result') < types.indexOf('text')).toBe(true);
        }
      }),
    );
  });
});
