import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../adapters/spec/index.js';
import { buildChain } from '../../../src/routing/candidates.js';
import { classifyComplexity } from '../../../src/routing/complexity.js';
import { decideRoute } from '../../../src/routing/router.js';

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

describe('decideRoute', () => {
  const plan = { tiers: { simple: ['local-llm', 'deepseek-chat'], high: ['claude'] }, localShare: 0.5 };
  const isLocal = (id: string) => id === 'local-llm';

  it('keeps local candidates for draws under the rollout share and drops them above it', () => {
    expect(decideRoute(ask('hi'), plan, { isLocal, draw: 0.2 }).models).toEqual(['local-llm', 'deepseek-chat']);
    const above = decideRoute(ask('hi'), plan, { isLocal, draw: 0.7 });
    expect(above.models).toEqual(['deepseek-chat']);
    expect(above.reason).toContain('rollout');
  });

  it('a tier with no chain borrows the nearest configured one', () => {
    expect(decideRoute(ask('Write a poem'), plan, { isLocal, draw: 0 }).models).toEqual(['claude']);
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
