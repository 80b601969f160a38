import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../adapters/spec/index.js';
import { buildChain } from '../../../src/routing/candidates.js';
import { TierRouter, type RouteContext, type TierPlan } from '../../../src/routing/router.js';
import { stickyDraw } from '../../../src/routing/rollout.js';
import { loadTierClassifier } from '../../../src/routing/tier-classifier.js';
import type { Tenant } from '../../../src/auth/tenant.js';

const OPEN = { id: 'open', name: 'open' } as Tenant;
const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'auto', messages: [{ role: 'user', content }], ...extra });
const CLOCK_TOOL: NonNullable<ChatRequest['tools']> = [{ type: 'function', function: { name: 'clock', description: 'The time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

describe('TierRouter', () => {
  const models = new Map([
    ['local-llm', { id: 'local-llm', backend: 'llama', capabilities: ['chat', 'stream'], fallback: [] }],
    ['deepseek-chat', { id: 'deepseek-chat', backend: 'deepseek', capabilities: ['chat', 'stream', 'tools'], fallback: [] }],
    ['claude', { id: 'claude', backend: 'anthropic', capabilities: ['chat', 'stream', 'tools'], fallback: [] }],
  ]);
  const catalog = { get: (id: string) => models.get(id) as never, isAvailable: () => true, isLocal: (id: string) => id === 'local-llm' };
  const trained = loadTierClassifier();
  const router = new TierRouter({ simple: ['local-llm', 'deepseek-chat'], high: ['claude'] }, catalog, trained);
  const context = (draw: number, extra: Partial<RouteContext> = {}): RouteContext => ({ tenant: OPEN, needs: ['chat'], localShare: 0.5, draw, validatesLocal: false, ...extra });
  const ids = (decision: { chain: readonly { modelId: string }[] }) => decision.chain.map((candidate) => candidate.modelId);

  describe('with the trained classifier (features only: no embedding in the context)', () => {
    const everyTier: TierPlan = { simple: ['local-llm'], medium: ['deepseek-chat'], high: ['claude'], creative: ['claude'], brand: ['claude'] };
    const planned = new TierRouter(everyTier, catalog, trained);
    const brandSystem = 'You are the voice of Lumen Coffee. Stay on-brand: a warm, premium voice for customer-facing replies, following our brand guidelines.';

    it.each<[string, ChatRequest, string]>([
      ['a one-line fact', ask('How many legs does a spider have?'), 'simple'],
      ['a rewrite of a paragraph', ask('Summarise this paragraph in two sentences: The committee met on Tuesday to review the budget, approved the new park and postponed the library vote until spring.'), 'medium'],
      ['a proof', ask('Prove that there are infinitely many primes, step by step.'), 'high'],
      ['a system design', ask('Design the architecture of a multi-region event-sourced payment system and analyse the trade-offs of each consistency model.'), 'high'],
      ['a haiku', ask('Write a haiku about a lighthouse in winter.'), 'creative'],
      ['a brand system prompt', { model: 'auto', messages: [{ role: 'system', content: brandSystem }, { role: 'user', content: 'Reply to a customer who thanked us for their order.' }] }, 'brand'],
    ])('%s → %s, and the reason names the model, its pick and its probability', (_, request, tier) => {
      const decision = planned.decide(request, context(0, { localShare: 1 }));
      expect(decision.tier).toBe(tier);
      const [label] = decision.reason.split(';');
      const match = /^classifier-features:(\w+)\((\d\.\d\d)\)$/.exec(label);
      expect(match?.[1]).toBe(tier);
      expect(Number(match?.[2])).toBeGreaterThan(0.5);
      expect(Number(match?.[2])).toBeLessThanOrEqual(1);
      expect(ids(decision)).toEqual(everyTier[tier as keyof TierPlan]);
    });

    it('uses the embedding weights when the context carries an embedding of the model\'s size', () => {
      const embedding = Float32Array.from({ length: trained.model.embeddingDim }, (_, index) => Math.sin(index + 1));
      expect(planned.decide(ask('How many legs does a spider have?'), context(0, { embedding })).reason).toMatch(/^classifier:\w+\(\d\.\d\d\)/);
      expect(planned.decide(ask('How many legs does a spider have?'), context(0, { embedding: new Float32Array(3) })).reason).toMatch(/^classifier-features:/);
    });

    it('still applies the rollout share to the classifier\'s tier', () => {
      const question = ask('What is the capital of Peru?');
      const under = router.decide(question, context(0.2));
      expect(under.tier).toBe('simple');
      expect(ids(under)).toEqual(['local-llm', 'deepseek-chat']);
      expect(under.reason).not.toContain('rollout');
      const above = router.decide(question, context(0.7));
      expect(ids(above)).toEqual(['deepseek-chat']);
      expect(above.reason).toMatch(/^classifier-features:simple\(\d\.\d\d\).*;rollout$/);
    });

    it('the tools hard rule lifts a simple-looking request with tools to medium, and says so', () => {
      const ruled = loadTierClassifier({ ...trained.model, rules: ['tools-at-least-medium'] });
      const decision = new TierRouter(everyTier, catalog, ruled).decide(ask('What time is it in Lima?', { tools: CLOCK_TOOL }), context(0, { needs: ['chat', 'tools'] }));
      expect(decision.tier).toBe('medium');
      expect(decision.reason).toMatch(/^rule:tools-at-least-medium;classifier-features:simple\(\d\.\d\d\)$/);
      expect(ids(decision)).toEqual(['deepseek-chat']);
      const withoutTools = new TierRouter(everyTier, catalog, ruled).decide(ask('What time is it in Lima?'), context(0));
      expect(withoutTools.tier).toBe('simple');
    });
  });

  it('with `routing.classifier: rules`, routes by the first-cut regular expressions', () => {
    const rules = new TierRouter({ simple: ['local-llm', 'deepseek-chat'], high: ['claude'] }, catalog, TierRouter.classifierFor('rules'));
    expect(rules.decide(ask('What is the capital of Peru?'), context(0))).toMatchObject({ tier: 'simple', reason: 'short-question' });
    expect(rules.decide(ask('What time is it in Lima?', { tools: CLOCK_TOOL }), context(0, { needs: ['chat', 'tools'] }))).toMatchObject({ tier: 'high', reason: 'tool-use', chain: [{ modelId: 'claude' }] });
    expect(TierRouter.classifierFor('trained').classify(ask('What is the capital of Peru?')).reason).toMatch(/^classifier-features:simple/);
  });

  it('a tier with no chain borrows the nearest configured one', () => {
    const decision = router.decide(ask('Write a limerick about a cat who hates Mondays.'), context(0));
    expect(decision.tier).toBe('creative');
    expect(ids(decision)).toEqual(['claude']);
  });

  it('drops models that cannot do what the request needs', () => {
    expect(ids(router.decide(ask('hi'), context(0, { needs: ['chat', 'tools'] })))).toEqual(['deepseek-chat']);
  });

  it('marks a local answer for scoring only when validation is on and someone can take over', () => {
    const scored = router.decide(ask('hi'), context(0, { validatesLocal: true }));
    expect(scored.chain.map((candidate) => candidate.scoreBeforeServing ?? false)).toEqual([true, false]);
    const alone = new TierRouter({ simple: ['local-llm'] }, catalog, trained).decide(ask('hi'), context(0, { validatesLocal: true }));
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
