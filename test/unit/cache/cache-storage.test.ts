import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatRequest } from '../../../adapters/spec/index.js';
import { cacheKeysOf } from '../../../src/cache/cache-keys.js';
import type { CachedAnswer, PurgeFilter } from '../../../src/cache/cache-store.js';
import { MemoryCacheStore } from '../../../src/cache/memory-cache-store.js';
import { VectorIndex } from '../../../src/cache/vector-index.js';

const completion: ChatCompletion = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Canberra.', refusal: null }, finish_reason: 'stop', logprobs: null }],
};

function entry(id: string, overrides: Partial<CachedAnswer> = {}): CachedAnswer {
  return { id, tenantId: 't1', scope: 's', exact: `x-${id}`, question: id, facts: {}, completion, modelId: 'm', createdAt: 0, expiresAt: Number.MAX_SAFE_INTEGER, ...overrides };
}

function unit(values: number[]): Float32Array {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (value) => value / norm);
}

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'auto', messages: [{ role: 'user', content }], ...extra });

describe('cache keys', () => {
  it('are the same for the same question with other spacing, and differ by tenant, system prompt, model and sampling', () => {
    const base = cacheKeysOf(ask('What is  the capital of Australia?'), 't1')!;
    expect(cacheKeysOf(ask(' What is the capital of Australia? '), 't1')!.exact).toBe(base.exact);
    expect(cacheKeysOf(ask('What is the capital of Australia?'), 't2')!.scope).not.toBe(base.scope);
    expect(cacheKeysOf({ ...ask('What is the capital of Australia?'), messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'What is the capital of Australia?' }] }, 't1')!.scope).not.toBe(base.scope);
    expect(cacheKeysOf(ask('What is the capital of Australia?', { model: 'gpt-4o' }), 't1')!.scope).not.toBe(base.scope);
    expect(cacheKeysOf(ask('What is the capital of Australia?', { temperature: 0 }), 't1')!.scope).not.toBe(base.scope);
    expect(cacheKeysOf(ask('What is the capital of Australia?', { seed: 7 }), 't1')!.scope).not.toBe(base.scope);
    expect(cacheKeysOf(ask('What is the capital of Australia?', { max_tokens: 16 }), 't1')!.scope).not.toBe(base.scope);
  });

  it('are absent when the last turn is not a user text turn', () => {
    expect(cacheKeysOf({ model: 'auto', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:,' } }] }] }, 't1')).toBeUndefined();
    expect(cacheKeysOf({ model: 'auto', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] }, 't1')).toBeUndefined();
  });
});

describe('vector index', () => {
  it('finds the nearest entry of the scope asked, never another scope’s', () => {
    const index = new VectorIndex<object>(3);
    index.add({ id: 'a', tenantId: 't', scope: 's1', facts: {}, expiresAt: Infinity }, unit([1, 0, 0]));
    index.add({ id: 'b', tenantId: 't', scope: 's1', facts: {}, expiresAt: Infinity }, unit([0, 1, 0]));
    index.add({ id: 'c', tenantId: 't', scope: 's2', facts: {}, expiresAt: Infinity }, unit([1, 0.01, 0]));
    const [first, second] = index.nearest('s1', unit([1, 0.1, 0]), 2);
    expect(first.entry.id).toBe('a');
    expect(first.similarity).toBeCloseTo(0.995, 2);
    expect(second.entry.id).toBe('b');
    expect(index.nearest('s3', unit([1, 0, 0]), 2)).toEqual([]);
  });

  it('forgets removed and expired entries', () => {
    const index = new VectorIndex<object>(2);
    index.add({ id: 'a', tenantId: 't', scope: 's', facts: {}, expiresAt: 10 }, unit([1, 0]));
    index.add({ id: 'b', tenantId: 't', scope: 's', facts: {}, expiresAt: Infinity }, unit([1, 1]));
    expect(index.nearest('s', unit([1, 0]), 2, 20).map((found) => found.entry.id)).toEqual(['b']);
    index.remove('b');
    expect(index.nearest('s', unit([1, 0]), 2, 20)).toEqual([]);
    expect(index.size).toBe(0);
  });
});

describe('memory cache store', () => {
  it('evicts the least recently used entry past its limit, a hit counting as use', async () => {
    const store = new MemoryCacheStore(2);
    const removed: string[] = [];
    store.follow({ added: () => {}, removed: (ids) => removed.push(...ids), purged: () => {} });
    await store.put(entry('a'));
    await store.put(entry('b'));
    store.touch('a');
    await store.put(entry('c'));
    expect(removed).toEqual(['b']);
    expect(await store.get('a')).toBeDefined();
    expect(await store.exactId('x-b')).toBeUndefined();
    await store.close();
  });

  it('serves nothing past the TTL', async () => {
    let now = 0;
    const store = new MemoryCacheStore(10, () => now);
    await store.put(entry('a', { expiresAt: 100 }));
    expect(await store.exactId('x-a')).toBe('a');
    now = 100;
    expect(await store.exactId('x-a')).toBeUndefined();
    expect(await store.get('a')).toBeUndefined();
    await store.close();
  });

  it('purges by id, by tenant and all', async () => {
    const store = new MemoryCacheStore(10);
    for (const [id, tenantId] of [['a', 't1'], ['b', 't2'], ['c', 't2'], ['d', 't3']]) await store.put(entry(id, { tenantId }));
    const purge = (filter: PurgeFilter) => store.purge(filter);
    expect(await purge({ id: 'a' })).toBe(1);
    expect(await purge({ tenantId: 't2' })).toBe(2);
    expect(store.size).toBe(1);
    expect(await purge({ all: true })).toBe(1);
    expect(store.size).toBe(0);
    await store.close();
  });
});
