import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from '../../../adapters/spec/index.js';
import type { Tenant } from '../../../src/auth/tenant.js';
import { MemoryCacheStore } from '../../../src/cache/memory-cache-store.js';
import { ResponseCache } from '../../../src/cache/response-cache.js';
import { CacheStep, replayCompletion, type CacheDirective } from '../../../src/pipeline/cache-step.js';
import { RequestRun } from '../../../src/pipeline/request-run.js';

const TENANT: Tenant = { id: 'team', name: 'team' };

function answer(content: string | null, overrides: Partial<ChatCompletion['choices'][number]> = {}): ChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null, ...overrides }],
    usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
  };
}

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra });

function setUp() {
  const cache = new ResponseCache({ store: new MemoryCacheStore(100), threshold: 0.9, wordThreshold: 0.8, ttlMs: 60_000 });
  const step = new CacheStep(cache, { maxTemperature: 0.7 });
  const runFor = (cacheDirective: CacheDirective = 'use', tenant = TENANT) =>
    new RequestRun({ requestId: `req-${Math.random()}`, tenant, signal: new AbortController().signal, cacheDirective, onRecord: () => {} });
  /** Answers `request` with `completion` as a fresh answer would be kept, then asks again. */
  const keepThenAsk = async (request: ChatRequest, completion: ChatCompletion, quality?: { score: number; reasons: string[] }) => {
    const probe = await step.probe(request, runFor());
    step.remember(probe, 'req-first', completion, 'gpt-4o-mini', quality, 0.75);
    const again = runFor();
    const second = await step.probe(request, again);
    return { hit: second?.hit, status: again.cache };
  };
  return { step, runFor, keepThenAsk };
}

describe('what is kept', () => {
  it('a whole answer is kept and served to the next identical request', async () => {
    const { keepThenAsk } = setUp();
    const { hit, status } = await keepThenAsk(ask('What is the speed of light?'), answer('About 299,792 km per second.'));
    expect(status).toBe('exact');
    expect(hit?.entry.completion.choices[0].message.content).toBe('About 299,792 km per second.');
    expect(hit?.entry.id).toBe('req-first');
  });

  it.each([
    ['a truncated answer', answer('About 299,792', { finish_reason: 'length' })],
    ['a refusal the vendor flagged', answer(null, { message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' } })],
    ['a refusal in words', answer("I'm sorry, but I can't help with that request.")],
    ['another refusal in words', answer('Unfortunately I am unable to provide that information.')],
    ['an empty answer', answer('  ')],
    ['tool calls', answer(null, { finish_reason: 'tool_calls', message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] } })],
  ])('%s is never kept', async (_name, completion) => {
    const { keepThenAsk } = setUp();
    expect((await keepThenAsk(ask('What is the speed of light?'), completion)).status).toBe('miss');
  });

  it('an answer that says sorry but answers is kept', async () => {
    const { keepThenAsk } = setUp();
    expect((await keepThenAsk(ask('Is it late?'), answer("Sorry for the wait! It's 11 pm, so yes, it is late."))).status).toBe('exact');
  });

  it('an answer scored below the threshold is not kept; one above it is', async () => {
    const { keepThenAsk } = setUp();
    expect((await keepThenAsk(ask('Name a prime above 100.'), answer('100'), { score: 0.4, reasons: ['wrong'] })).status).toBe('miss');
    expect((await keepThenAsk(ask('Name a prime above 100.'), answer('101'), { score: 0.9, reasons: [] })).status).toBe('exact');
  });
});

describe('what is not looked up', () => {
  it.each([
    ['a hot temperature', ask('Write a poem.', { temperature: 1.2 })],
    ['several choices', ask('Write a poem.', { n: 3 })],
    ['tools', ask('Write a poem.', { tools: [{ type: 'function', function: { name: 'post', parameters: {} } }] })],
    ['an image', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }] } as ChatRequest],
  ])('%s: bypass, neither read nor kept', async (_name, request) => {
    const { step, runFor } = setUp();
    const run = runFor();
    expect(await step.probe(request, run)).toBeUndefined();
    expect(run.cache).toBe('bypass');
  });

  it('a cool temperature is cached', async () => {
    const { keepThenAsk } = setUp();
    expect((await keepThenAsk(ask('Define entropy.', { temperature: 0.2 }), answer('A measure of disorder.'))).status).toBe('exact');
  });

  it('bypass and a tenant with the cache off skip it; refresh skips the read but keeps the answer', async () => {
    const { step, runFor } = setUp();
    const request = ask('Define entropy.');
    step.remember(await step.probe(request, runFor()), 'req-1', answer('A measure of disorder.'), 'gpt-4o-mini', undefined, 0.75);
    expect(await step.probe(request, runFor('bypass'))).toBeUndefined();
    expect(await step.probe(request, runFor('use', { ...TENANT, cache: false }))).toBeUndefined();
    const refresh = await step.probe(request, runFor('refresh'));
    expect(refresh?.hit).toBeUndefined();
    step.remember(refresh, 'req-2', answer('Disorder, measured.'), 'gpt-4o-mini', undefined, 0.75);
    expect((await step.probe(request, runFor()))?.hit?.entry.completion.choices[0].message.content).toBe('Disorder, measured.');
  });
});

describe('a hit served', () => {
  it('gets a fresh id, costs nothing, and names the entry it came from', async () => {
    const { step, runFor } = setUp();
    const request = ask('Define entropy.');
    step.remember(await step.probe(request, runFor()), 'req-origin', answer('A measure of disorder.'), 'gpt-4o', undefined, 0.75);
    const probe = await step.probe(request, runFor());
    const served = step.serve(probe!.hit!, new Date(), performance.now());
    expect(served.completion.id).not.toBe('chatcmpl-1');
    expect(served.completion.choices[0].message.content).toBe('A measure of disorder.');
    expect(served.attempt).toMatchObject({ outcome: 'cache-hit', route: 'cache', backendId: 'cache', modelId: 'gpt-4o', costUsd: 0, cacheEntryId: 'req-origin' });
  });

  it('replays as a stream: role, content pieces that join to the answer, finish, then usage when asked', async () => {
    const collect = async (wantsUsage: boolean) => {
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of replayCompletion(answer('A measure of  disorder, in a system.'), wantsUsage)) chunks.push(chunk);
      return chunks;
    };
    const chunks = await collect(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('A measure of  disorder, in a system.');
    expect(chunks.at(-2)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 9 } });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    const plain = await collect(false);
    expect(plain.every((chunk) => !('usage' in chunk))).toBe(true);
    expect(plain.at(-1)?.choices[0].finish_reason).toBe('stop');
  });
});
