import fc from 'fast-check';
import type { ChatHistoryItem } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { toLlamaHistory } from '../../../../adapters/llama-cpp/openai-to-llama-history.js';
import { SluiceError, type ChatMessage } from '../../../../adapters/spec/index.js';

function thrown(action: () => unknown): SluiceError {
  try {
    action();
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected a SluiceError');
}

const weatherCall = { id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };

describe('toLlamaHistory', () => {
  it('maps system and developer to system, user to user, and opens a model turn', () => {
    const history = toLlamaHistory([
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: 'Answer in English.' },
      { role: 'user', content: 'Hi' },
    ]);
    expect(history).toEqual([
      { type: 'system', text: 'Be brief.' },
      { type: 'system', text: 'Answer in English.' },
      { type: 'user', text: 'Hi' },
      { type: 'model', response: [] },
    ]);
  });

  it('keeps a multi-turn conversation, prior assistant turns included, in order', () => {
    const history = toLlamaHistory([
      { role: 'user', content: 'What is 2 + 2?' },
      { role: 'assistant', content: '4' },
      { role: 'user', content: 'And times 3?' },
    ]);
    expect(history).toEqual([
      { type: 'user', text: 'What is 2 + 2?' },
      { type: 'model', response: ['4'] },
      { type: 'user', text: 'And times 3?' },
      { type: 'model', response: [] },
    ]);
  });

  it('joins text parts with newlines and refuses images, naming the part', () => {
    const history = toLlamaHistory([{ role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] }]);
    expect(history[0]).toEqual({ type: 'user', text: 'one\ntwo' });
    const error = thrown(() =>
      toLlamaHistory([{ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] }]),
    );
    expect(error.kind).toBe('invalid-request');
    expect(error.detail.param).toBe('messages[0].content[1]');
  });

  it('pairs tool calls with their results and lets the model continue that turn', () => {
    const history = toLlamaHistory([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [weatherCall] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temperature_c":21}' },
    ]);
    expect(history).toEqual([
      { type: 'user', text: 'Weather in Paris?' },
      { type: 'model', response: [{ type: 'functionCall', name: 'get_weather', params: { city: 'Paris' }, result: { temperature_c: 21 } }] },
    ]);
  });

  it('merges the assistant answer after tool results into the same turn, then opens a new one', () => {
    const history = toLlamaHistory([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: 'Let me check.', tool_calls: [weatherCall] },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      { role: 'assistant', content: 'It is sunny.' },
      { role: 'user', content: 'Thanks' },
    ]);
    expect(history).toEqual<ChatHistoryItem[]>([
      { type: 'user', text: 'Weather in Paris?' },
      {
        type: 'model',
        response: ['Let me check.', { type: 'functionCall', name: 'get_weather', params: { city: 'Paris' }, result: 'sunny' }, 'It is sunny.'],
      },
      { type: 'user', text: 'Thanks' },
      { type: 'model', response: [] },
    ]);
  });

  it('keeps malformed arguments as the text the model wrote', () => {
    const broken = { ...weatherCall, function: { name: 'get_weather', arguments: '{city: Paris' } };
    const history = toLlamaHistory([
      { role: 'user', content: 'x' },
      { role: 'assistant', tool_calls: [broken] },
      { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
    ]);
    expect(history[1]).toEqual({ type: 'model', response: [{ type: 'functionCall', name: 'get_weather', params: '{city: Paris', result: 'ok' }] });
  });

  it.each<[string, ChatMessage[], string]>([
    ['a tool call nobody answered', [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [weatherCall] }, { role: 'user', content: 'y' }], 'messages[1].tool_calls'],
    ['a tool result with no call before it', [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'call_9', content: 'r' }], 'messages[1].tool_call_id'],
    ['the legacy function role', [{ role: 'user', content: 'x' }, { role: 'function', name: 'f', content: 'r' }], 'messages[1].role'],
  ])('refuses %s', (_name, messages, param) => {
    const error = thrown(() => toLlamaHistory(messages));
    expect(error.kind).toBe('invalid-request');
    expect(error.detail.param).toBe(param);
  });

  it('keeps every text, in order (property)', () => {
    const message = fc.record({
      role: fc.constantFrom('system', 'developer', 'user', 'assistant'),
      content: fc.string({ minLength: 1 }),
    });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), (messages) => {
        const history = toLlamaHistory(messages as ChatMessage[]);
        const texts = history.flatMap((item) => (item.type === 'model' ? (item.response as string[]) : [item.text as string]));
        expect(texts).toEqual(messages.map((entry) => entry.content));
        expect(history.at(-1)).toEqual({ type: 'model', response: [] });
      }),
    );
  });
});
