import { describe, expect, it } from 'vitest';
import { forcedCallSchema, parseTextToolCalls, toFunctions, toolModeOf } from '../../../../adapters/llama-cpp/tool-calls.js';
import type { ChatRequest, Tool } from '../../../../adapters/spec/index.js';

const weather: Tool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};
const time: Tool = { type: 'function', function: { name: 'get_time' } };
const request = (overrides: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'local', messages: [{ role: 'user', content: 'Hi' }], tools: [weather, time], ...overrides });
const names = new Set(['get_weather', 'get_time']);

describe('toolModeOf', () => {
  it.each<[Partial<ChatRequest>, string]>([
    [{ tools: undefined }, 'none'],
    [{ tools: [] }, 'none'],
    [{ tool_choice: 'none' }, 'none'],
    [{}, 'auto'],
    [{ tool_choice: 'auto' }, 'auto'],
    [{ tool_choice: 'required' }, 'forced'],
    [{ tool_choice: { type: 'function', function: { name: 'get_time' } } }, 'forced'],
  ])('%j → %s', (overrides, mode) => {
    expect(toolModeOf(request(overrides))).toBe(mode);
  });
});

describe('forcedCallSchema', () => {
  const functions = toFunctions([weather, time]);

  it('allows any of the tools for required', () => {
    expect(forcedCallSchema(request({ tool_choice: 'required' }), functions)).toEqual({
      oneOf: [
        { type: 'object', properties: { name: { const: 'get_weather' }, arguments: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
        { type: 'object', properties: { name: { const: 'get_time' }, arguments: { type: 'object', properties: {} } } },
      ],
    });
  });

  it('allows only the named tool', () => {
    expect(forcedCallSchema(request({ tool_choice: { type: 'function', function: { name: 'get_time' } } }), functions)).toEqual({
      type: 'object',
      properties: { name: { const: 'get_time' }, arguments: { type: 'object', properties: {} } },
    });
  });
});

describe('toFunctions', () => {
  it('refuses parameters the grammar cannot enforce, naming the tool', () => {
    const bad: Tool = { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } } } } };
    expect(() => toFunctions([weather, bad])).toThrow(expect.objectContaining({ kind: 'invalid-request', detail: { param: 'tools[1].function.parameters' } }));
  });
});

describe('parseTextToolCalls', () => {
  it.each([
    ['bare JSON', '{"name": "get_weather", "arguments": {"city": "Paris"}}'],
    ['tool_call tags', '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'],
    ['a code fence', '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```'],
    ['arguments as a JSON string', '{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}'],
  ])('reads a call written as %s', (_form, text) => {
    const calls = parseTextToolCalls(text, names);
    expect(calls).toHaveLength(1);
    expect(calls![0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(JSON.parse(calls![0].function.arguments)).toEqual({ city: 'Paris' });
    expect(calls![0].id).toMatch(/^call_[0-9a-f]{24}$/);
  });

  it('reads several calls from an array', () => {
    const calls = parseTextToolCalls('[{"name": "get_time", "arguments": {}}, {"name": "get_weather", "arguments": {"city": "Oslo"}}]', names);
    expect(calls?.map((call) => call.function.name)).toEqual(['get_time', 'get_weather']);
  });

  it.each([
    ['prose', 'The weather is fine.'],
    ['JSON that is not a call', '{"city": "Paris"}'],
    ['a tool that does not exist', '{"name": "rm_rf", "arguments": {}}'],
    ['broken JSON', '{"name": "get_weather", "arguments": {'],
  ])('does not mistake %s for a call', (_form, text) => {
    expect(parseTextToolCalls(text, names)).toBeUndefined();
  });
});
