import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../adapters/spec/index.js';
import { buildChain } from '../../../src/routing/candidates.js';
import { classifyComplexity } from '../../../src/routing/complexity.js';
import { TierRouter, type RouteContext } from '../../../src/routing/router.js';
import { stickyDraw } from '../../../src/routing/rollout.js';
import type { Tenant } from '../../../src/auth/tenant.js';

const OPEN = { id: 'open', name: 'open' } as Tenant;
const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'auto', messages: [{ role: 'user', content }], ...extra });

describe('complexity → tier', () => {
  it.each([
    ['What is the capital of France?', 'simple'],
    ['Write a short poem about autumn', 'creative'],
    ['Analyze the trade-offs between these two database designs', 'high'],
    ['```js\nfunction f() {}\n```\nwhat does this do', 'high'],
    [`${'word '.repeat(400)}`, 'medium'],
  ])('%s → %s', (content, tier) => {
    expect(classifyComplexity(ask(content)).tier).toBe(tier);
  });

  it('a customer-facing system prompt is the brand tier', () => {
    const request: ChatRequest = { model: 'auto', messages: [{ role: 'system', content: 'You write customer-facing replies in our brand voice.' }, { role: 'user', content: 'Thank the customer' }] };
    expect(classifyComplexity(request)).toEqual({ tier: 'brand', reason: 'brand-voice' });
  });
});

describe('TierRouter', () => {
  const models = new Map([
    ['local-llm', { id: 'local-llm', backend: 'llama', capabilities: ['chat', 'stream'], fallback: [] }],
    ['deepseek-chat', { id: 'deepseek-chat', backend: 'deepseek', capabilities: ['chat', 'stream', 'tools'], fallback: [] }],
    ['claude', { id: 'claude', backend: 'anthropic', capabilities: ['chat', 'stream', 'tools'], fallback: [] }],
  ]);
  const catalog = { get: (id: string) => models.get(id) as never, isAvailable: () => true, isLocal: (id: string) => id === 'local-llm' };
  const router = new TierRouter({ simple: ['local-llm', 'deepseek-chat'], high: ['claude'] }, catalog);
  const context = (draw: number, extra: Partial<RouteContext> = {}): RouteContext => ({ tenant: OPEN, needs: ['chat'], localShare: 0.5, draw, validatesLocal: false, ...extra });
  const ids = (decision: { chain: readonly { modelId: string }[] }) => decision.chain.map((candidate) => candidate.modelId);

  it('keeps local candidates for draws under the rollout share and drops them above it', () => {
    expect(ids(router.decide(ask('hi'), context(0.2)))).toEqual(['local-llm', 'deepseek-chat']);
    const above = router.decide(ask('hi'), context(0.7));
    expect(ids(above)).toEqual(['deepseek-chat']);
    expect(above.reason).toContain('rollout');
  });

  it('a tier with no chain borrows the nearest configured one', () => {
    const decision = router.decide(ask('Write a poem'), context(0));
    expect(decision.tier).toBe('creative');
    expect(ids(decision)).toEqual(['claude']);
  });

  it('drops models that cannot do what the request needs', () => {
    expect(ids(router.decide(ask('hi'), context(0, { needs: ['chat', 'tools'] })))).toEqual(['deepseek-chat']);
  });

  it('marks a local answer for scoring only when validation is on and someone can take over', () => {
    const scored = router.decide(ask('hi'), context(0, { validatesLocal: true }));
    expect(scored.chain.map((candidate) => candidate.scoreBeforeServing ?? false)).toEqual([true, false]);
    const alone = new TierRouter({ simple: ['local-llm'] }, catalog).decide(ask('hi'), context(0, { validatesLocal: true }));
    expect(alone.chain[0].scoreBeforeServing).toBeUndefined();
    expect(router.decide(ask('hi'), context(0)).chain[0].scoreBeforeServing).toBeUndefined();
  });
});

describe('stickyDraw', () => {
  it('gives one caller the same place in the rollout on every turn, and spreads callers out', () => {
    const first = ask('hello there');
    const later = { ...first, messages: [...first.messages, { role: 'assistant' as const, content: 'hi' }, { role: 'user' as const, content: 'and now?' }] };
    expect(stickyDraw(later, OPEN)).toBe(stickyDraw(first, OPEN));
    expect(stickyDraw({ ...first, user: 'u-1' }, OPEN)).toBe(stickyDraw({ ...later, user: 'u-1' }, OPEN));
    const draws = Array.from({ length: 400 }, (_, index) => stickyDraw({ ...first, user: `user-${index}` }, OPEN));
    expect(draws.filter((draw) => draw < 0.5).length).toBeGreaterThan(150);
    expect(draws.filter((draw) => draw < 0.5).length).toBeLessThan(250);
  });
});

describe('buildChain', () => {
  const models = new Map([
    ['a', { id: 'a', backend: 'x', capabilities: ['chat'], fallback: ['b', 'c'] }],
    ['b', { id: 'b', backend: 'down', capabilities: ['chat', 'tools'], fallback: ['c'] }],
    ['c', { id: 'c', backend: 'y', capabilities: ['chat', 'tools'], fallback: ['a'] }],
  ]);
  const catalog = { get: (id: string) => models.get(id) as never, isAvailable: (backend: string) => backend !== 'down' };

  it('follows fallbacks once each, skipping unavailable backends, missing capabilities and disallowed models', () => {
    expect(buildChain(['a'], catalog, { needs: ['chat'], isAllowed: () => true }).map((c) => c.modelId)).toEqual(['a', 'c']);
    expect(buildChain(['a'], catalog, { needs: ['chat', 'tools'], isAllowed: () => true }).map((c) => c.modelId)).toEqual(['c']);
    expect(buildChain(['a'], catalog, { needs: ['chat'], isAllowed: (id) => id !== 'a' }).map((c) => c.modelId)).toEqual(['c']);
  });
});
