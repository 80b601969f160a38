/**
 * The response cache's shared store against a real redis-server: two stores stand for two gateway
 * instances; what one stores the other's index learns, a purge on one is seen by the other, and an
 * outage reads as misses (never errors) until Redis is back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletion } from '../../adapters/spec/index.js';
import type { CachedAnswer, PurgeFilter, StoreListener } from '../../src/cache/cache-store.js';
import { RedisCacheStore } from '../../src/cache/redis-cache-store.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const completion: ChatCompletion = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Reset it under Settings → Security.', refusal: null }, finish_reason: 'stop', logprobs: null }],
};

function entry(id: string, tenantId = 't1'): CachedAnswer {
  const now = Date.now();
  return { id, tenantId, scope: 's', exact: `x-${id}`, question: `q ${id}`, facts: { numbers: [] }, completion, modelId: 'm', createdAt: now, expiresAt: now + 60_000, vector: [0.6, 0.8] };
}

/** What a store's listener has been told: the ids it holds now. */
function tracker(): StoreListener & { ids: Set<string>; tenants: Map<string, string> } {
  const ids = new Set<string>();
  const tenants = new Map<string, string>();
  return {
    ids,
    tenants,
    added: (added) => (ids.add(added.id), tenants.set(added.id, added.tenantId)),
    removed: (gone) => gone.forEach((id) => ids.delete(id)),
    purged: (filter: PurgeFilter) => [...ids].filter((id) => 'all' in filter || ('tenantId' in filter && tenants.get(id) === filter.tenantId) || ('id' in filter && filter.id === id)).forEach((id) => ids.delete(id)),
  };
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let redis: RedisServer;
let prefixCount = 0;
const open: RedisCacheStore[] = [];

function store(prefix: string, troubles: Error[] = []): RedisCacheStore {
  const made = new RedisCacheStore({ url: redis.url, maxEntries: 3, prefix, onTrouble: (error) => troubles.push(error) });
  open.push(made);
  return made;
}

/** Two stores on one prefix, as two gateway instances sharing one Redis; b's index is watched. */
async function twoInstances() {
  const prefix = `t${++prefixCount}:`;
  const [a, b] = [store(prefix), store(prefix)];
  const seenByB = tracker();
  a.follow(tracker());
  b.follow(seenByB);
  await Promise.all([a.ready(), b.ready()]);
  return { a, b, seenByB };
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((made) => made.close()));
});
afterAll(async () => {
  await redis.stop();
});

describe('redis cache store shared by two instances', () => {
  it('an entry stored through one is found by the other, with its vector, and its index learns it', async () => {
    const { a, b, seenByB } = await twoInstances();
    await a.put(entry('r1'));
    await eventually(() => seenByB.ids.has('r1'));
    expect(await b.exactId('x-r1')).toBe('r1');
    const fetched = await b.get('r1');
    expect(fetched?.completion.choices[0].message.content).toBe('Reset it under Settings → Security.');
    expect(fetched?.vector?.[1]).toBeCloseTo(0.8, 5);
    expect(await a.purge({ id: 'r1' })).toBe(1);
    await eventually(() => !seenByB.ids.has('r1'));
    expect(await b.exactId('x-r1')).toBeUndefined();
  });

  it('a purge by tenant on one is seen by the other; the LRU limit holds across both', async () => {
    const { a, b, seenByB } = await twoInstances();
    await a.put(entry('r1', 'acme'));
    await b.put(entry('r2', 'other'));
    await eventually(() => seenByB.ids.has('r1'));
    expect(await a.purge({ tenantId: 'acme' })).toBe(1);
    await eventually(() => !seenByB.ids.has('r1'));
    expect(await b.get('r1')).toBeUndefined();
    expect(await b.get('r2')).toBeDefined();
    for (const id of ['r3', 'r4', 'r5']) await a.put(entry(id));
    // maxEntries 3: r2, the least recently used, went — from Redis and from b's index.
    expect(await b.get('r2')).toBeUndefined();
    await eventually(() => !seenByB.ids.has('r2'));
  });

  it('a new instance catches up on the entries already there', async () => {
    const prefix = `t${++prefixCount}:`;
    const a = store(prefix);
    a.follow(tracker());
    await a.ready();
    await a.put(entry('r1'));
    const late = store(prefix);
    const seen = tracker();
    late.follow(seen);
    await eventually(() => seen.ids.has('r1'));
  });
});

describe('redis cache store when Redis goes away', () => {
  it('answers misses and drops writes while Redis is down, says so once, and works again once it is back', async () => {
    const own = await startRedisServer();
    const troubles: Error[] = [];
    const made = new RedisCacheStore({ url: own.url, maxEntries: 10, onTrouble: (error) => troubles.push(error) });
    open.push(made);
    made.follow(tracker());
    await made.ready();
    await made.put(entry('r1'));
    expect(await made.exactId('x-r1')).toBe('r1');
    await own.stop();
    expect(await made.exactId('x-r1')).toBeUndefined();
    expect(await made.get('r1')).toBeUndefined();
    await expect(made.put(entry('r2'))).resolves.toBeUndefined();
    expect(troubles.length).toBeGreaterThanOrEqual(1);
    const back = await startRedisServer(own.port);
    try {
      await eventually(async () => {
        await made.put(entry('r3'));
        return (await made.exactId('x-r3')) === 'r3';
      }, 10_000);
      // The restart lost what was there (no persistence): a miss, not an error.
      expect(await made.get('r1')).toBeUndefined();
    } finally {
      await made.close();
      await back.stop();
    }
  });
});
