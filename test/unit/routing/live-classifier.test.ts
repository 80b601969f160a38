import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../adapters/spec/index.js';
import type { Tenant } from '../../../src/auth/tenant.js';
import { RULES_CLASSIFIER, TierRouter, type TierClassifying } from '../../../src/routing/router.js';
import { RoutingState, type RoutingChange } from '../../../src/routing/routing-state.js';

const OPEN = { id: 'open', name: 'open' } as Tenant;
const ask = (content: string): ChatRequest => ({ model: 'auto', messages: [{ role: 'user', content }] });
const THRESHOLDS = { simple: 0.75, medium: 0.75, high: 0.75, creative: 0.75, brand: 0.75 };
/** A classifier that calls everything one tier, so a swap shows in the decision. */
const always = (tier: 'simple' | 'high'): TierClassifying => ({ classify: () => ({ tier, reason: `always:${tier}` }) });

describe('the live classifier', () => {
  const models = new Map([
    ['deepseek-chat', { id: 'deepseek-chat', backend: 'deepseek', capabilities: ['chat'], fallback: [] }],
    ['claude', { id: 'claude', backend: 'anthropic', capabilities: ['chat'], fallback: [] }],
  ]);
  const catalog = { get: (id: string) => models.get(id) as never, isAvailable: () => true, isLocal: () => false };
  const context = { tenant: OPEN, needs: ['chat'] as const, localShare: 1, draw: 0, validatesLocal: false };

  it('starts as config chose, and a swap through the routing state changes the next decision and is announced once', () => {
    const live = TierRouter.liveClassifierFor('trained');
    const state = new RoutingState({ localShare: 1, escalationThresholds: THRESHOLDS }, live);
    const changes: RoutingChange[] = [];
    state.onChange((change) => changes.push(change));
    const router = new TierRouter({ simple: ['deepseek-chat'], high: ['claude'] }, catalog, live);
    expect(live.version).toBe('shipped');
    expect(router.decide(ask('what is the capital of Peru?'), context)).toMatchObject({ tier: 'simple', chain: [{ modelId: 'deepseek-chat' }] });

    state.setClassifier(always('high'), 'optimizer v2', 'optimizer v2');
    state.setClassifier(always('high'), 'optimizer v2', 'optimizer v2 again');
    expect(router.decide(ask('what is the capital of Peru?'), context)).toMatchObject({ tier: 'high', reason: 'always:high', chain: [{ modelId: 'claude' }] });
    state.setClassifier(live.initial, live.initialVersion, 'optimizer rollback of v2');
    expect(router.decide(ask('what is the capital of Peru?'), context).tier).toBe('simple');
    expect(changes).toEqual([
      { setting: 'tier_classifier', value: 'optimizer v2', previous: 'shipped', reason: 'optimizer v2' },
      { setting: 'tier_classifier', value: 'shipped', previous: 'optimizer v2', reason: 'optimizer rollback of v2' },
    ]);
  });

  it('names the rules classifier as such; a routing state without a holder refuses a swap', () => {
    const live = TierRouter.liveClassifierFor('rules');
    expect(live).toMatchObject({ version: 'rules', initialVersion: 'rules', initial: RULES_CLASSIFIER });
    const bare = new RoutingState({ localShare: 1, escalationThresholds: THRESHOLDS });
    expect(bare.classifier).toBeUndefined();
    expect(() => bare.setClassifier(always('simple'), 'optimizer v1', 'optimizer v1')).toThrow(/no swappable classifier/);
  });
});
