import { describe, expect, it } from 'vitest';
import { ChunkChannel } from '../../../../adapters/llama-cpp/chunk-channel.js';
import { ChunkFactory } from '../../../../adapters/spec/index.js';
import { newCompletionId, toChatCompletion, usageOf } from '../../../../adapters/llama-cpp/llama-to-openai.js';
import type { GeneratedChoice } from '../../../../adapters/llama-cpp/local-generation.js';

const identity = { id: 'chatcmpl-local-abc', created: 1_700_000_000, model: 'smollm2-135m-instruct', fingerprint: 'fp_0123456789' };
const call = { id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };

describe('toChatCompletion', () => {
  it('builds one choice per generation and sums completion tokens once over the prompt', () => {
    const choices: GeneratedChoice[] = [
      { text: 'Paris.', toolCalls: [], finishReason: 'stop', completionTokens: 3 },
      { text: 'It is Par', toolCalls: [], finishReason: 'length', completionTokens: 5 },
    ];
    const completion = toChatCompletion(identity, choices, 20);
    expect(completion).toMatchObject({ id: 'chatcmpl-local-abc', object: 'chat.completion', created: 1_700_000_000, model: 'smollm2-135m-instruct', system_fingerprint: 'fp_0123456789' });
    expect(completion.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: 'Paris.', refusal: null }, finish_reason: 'stop', logprobs: null },
      { index: 1, message: { role: 'assistant', content: 'It is Par', refusal: null }, finish_reason: 'length', logprobs: null },
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 });
  });

  it('answers tool calls with null content', () => {
    const completion = toChatCompletion(identity, [{ text: '', toolCalls: [call], finishReason: 'tool_calls', completionTokens: 12 }], 40);
    expect(completion.choices[0].message).toEqual({ role: 'assistant', content: null, refusal: null, tool_calls: [call] });
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
  });
});

describe('ChunkFactory', () => {
  const chunks = new ChunkFactory(identity);

  it('writes role, text, tool call, finish and usage chunks sharing the answer identity', () => {
    const all = [chunks.role(0), chunks.text(0, 'Hi'), chunks.toolCalls(0, [call]), chunks.finish(0, 'tool_calls'), chunks.usage(usageOf(5, [{ completionTokens: 2 }]))];
    for (const chunk of all) expect(chunk).toMatchObject({ id: identity.id, object: 'chat.completion.chunk', created: identity.created, model: identity.model, system_fingerprint: 'fp_0123456789' });
    expect(all[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(all[1].choices[0].delta).toEqual({ content: 'Hi' });
    expect(all[2].choices[0].delta.tool_calls).toEqual([{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    expect(all[3].choices[0]).toMatchObject({ delta: {}, finish_reason: 'tool_calls' });
    expect(all[4].choices).toEqual([]);
    expect(all[4].usage).toEqual({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
  });
});

describe('newCompletionId', () => {
  it('is a distinct chatcmpl-local- id each time', () => {
    const ids = new Set(Array.from({ length: 50 }, newCompletionId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^chatcmpl-local-[0-9a-f]{24}$/);
  });
});

describe('ChunkChannel', () => {
  it('yields what was pushed, in order, then ends', async () => {
    const channel = new ChunkChannel<number>();
    const received: number[] = [];
    const reading = (async () => {
      for await (const item of channel) received.push(item);
    })();
    channel.push(1);
    await Promise.resolve();
    channel.push(2);
    channel.push(3);
    channel.end();
    channel.push(4); // after the end: dropped
    await reading;
    expect(received).toEqual([1, 2, 3]);
  });

  it('delivers what was buffered before the failure, then throws it', async () => {
    const channel = new ChunkChannel<string>();
    channel.push('a');
    channel.fail(new Error('generation broke'));
    const received: string[] = [];
    await expect(
      (async () => {
        for await (const item of channel) received.push(item);
      })(),
    ).rejects.toThrow('generation broke');
    expect(received).toEqual(['a']);
  });
});
