import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../adapters/spec/index.js';
import type { Tenant } from '../../../src/auth/tenant.js';
import { BudgetPressure } from '../../../src/budget/budget-pressure.js';
import { MemoryBudgetGuard } from '../../../src/budget/memory-budget-guard.js';
import { parseConfig } from '../../../src/config/load.js';
import { ModelCatalog } from '../../../src/routing/model-catalog.js';
import { RULES_CLASSIFIER, TierRouter } from '../../../src/routing/router.js';
import { RoutingPolicy } from '../../../src/routing/routing-policy.js';
import { RoutingState } from '../../../src/routing/routing-state.js';

const OPEN = { id: 'open', name: 'open' } as Tenant;
const config = parseConfig({
  backends: {
    anthropic: { type: 'anthropic', api_key: 'k' },
    deepseek: { type: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1', api_key: 'k' },
    local: { type: 'llama-cpp', requires_key: false, options: { model: 'chat/x.gguf' } },
  },
  models: [
    { id: 'claude', backend: 'anthropic', capabilities: ['chat', 'stream'], price: { input_per_1m: 3, output_per_1m: 15 } },
    { id: 'deepseek', backend: 'deepseek', capabilities: ['chat', 'stream'], price: { input_per_1m: 0.27, output_per_1m: 1.1 } },
    { id: 'local-llm', backend: 'local', capabilities: ['chat', 'stream'] },
  ],
  routing: { tiers: { simple: ['local-llm', 'deepseek'], high: ['claude', 'deepseek'] } },
  budget: { monthly_usd: 10 },
});
const catalog = new ModelCatalog(config.models, ['auto'], { isAvailable: () => true, isLocal: (id) => id === 'local' });
const proof: ChatRequest = { model: 'auto', messages: [{ role: 'user', content: 'Prove step by step that the square root of 2 is irrational, and analyse why the proof works.' }] };

async function spend(guard: MemoryBudgetGuard, usd: number): Promise<void> {
  const outcome = await guard.reserve([{ scope: 'global', capUsd: 10 }], usd, { requestId: 'spent' });
  if (!outcome.ok) throw new Error('the test spend did not fit');
  await outcome.reservation.settle(usd);
}

function policyOver(guard: MemoryBudgetGuard, shiftAt = 0.8, localWaitMs?: number) {
  const pressure = new BudgetPressure(() => guard.snapshot([{ scope: 'global', capUsd: 10 }]));
  const state = new RoutingState({ localShare: 1, escalationThresholds: {} as never });
  const policy = new RoutingPolicy(catalog, new TierRouter(config.routing.tiers, catalog, RULES_CLASSIFIER), state, {
    tiers: config.routing.tiers,
    onBudgetExceeded: 'local',
    validatesLocal: true,
    budgetShift: { pressure, at: shiftAt },
    localQueue: { expectedWaitMs: (backendId) => (backendId === 'local' ? localWaitMs : undefined), maxWaitMs: 2_000 },
  });
  return { pressure, policy };
}

const ids = (plan: { chain: readonly { modelId: string }[] }) => plan.chain.map((candidate) => candidate.modelId);

describe('routing near the budget cap', () => {
  it('keeps the planned chain while spend is below the shift point', async () => {
    const guard = new MemoryBudgetGuard();
    await spend(guard, 7.9);
    const { pressure, policy } = policyOver(guard);
    await pressure.refresh();
    expect(pressure.usedFraction).toBeCloseTo(0.79, 5);
    const plan = policy.planChat(proof, ['chat'], OPEN);
    expect(plan.tier).toBe('high');
    expect(ids(plan)).toEqual(['claude', 'deepseek', 'local-llm']); // the local model only if the vendors do not fit
    expect(plan.chain[2].onlyIfBudgetExceeded).toBe(true);
    expect(plan.routeReason).not.toContain('budget');
  });

  it('from the shift point on: the plan\'s local model first (scored), then the vendors cheapest first, and the reason says so', async () => {
    const guard = new MemoryBudgetGuard();
    await spend(guard, 8.5);
    const { pressure, policy } = policyOver(guard);
    await pressure.refresh();
    const plan = policy.planChat(proof, ['chat'], OPEN);
    expect(ids(plan)).toEqual(['local-llm', 'deepseek', 'claude']);
    expect(plan.chain[0].scoreBeforeServing).toBe(true); // a weak local answer still escalates
    expect(plan.chain[0].onlyIfBudgetExceeded).toBeUndefined();
    expect(plan.routeReason).toMatch(/;budget:0\.85$/);
  });

  it('counts money held by calls in flight, and follows the ledger as it fills', async () => {
    const guard = new MemoryBudgetGuard();
    const { pressure, policy } = policyOver(guard);
    await pressure.refresh();
    expect(ids(policy.planChat(proof, ['chat'], OPEN))[0]).toBe('claude');
    const held = await guard.reserve([{ scope: 'global', capUsd: 10 }], 9, { requestId: 'in-flight' });
    expect(held.ok).toBe(true);
    await pressure.refresh();
    expect(ids(policy.planChat(proof, ['chat'], OPEN))[0]).toBe('local-llm');
  });

  it('leaves explicit model names alone', async () => {
    const guard = new MemoryBudgetGuard();
    await spend(guard, 9.5);
    const { pressure, policy } = policyOver(guard);
    await pressure.refresh();
    expect(ids(policy.planChat({ ...proof, model: 'claude' }, ['chat'], OPEN))).toEqual(['claude', 'local-llm']);
  });

  it('a ledger that cannot be read keeps the last known pressure', async () => {
    let fail = false;
    const guard = new MemoryBudgetGuard();
    await spend(guard, 9);
    const errors: string[] = [];
    const pressure = new BudgetPressure(async () => {
      if (fail) throw new Error('ledger down');
      return guard.snapshot([{ scope: 'global', capUsd: 10 }]);
    }, (error) => errors.push(error.message));
    await pressure.refresh();
    fail = true;
    await pressure.refresh();
    expect(pressure.usedFraction).toBeCloseTo(0.9, 5);
    expect(errors).toEqual(['ledger down']);
  });
});

describe('routing past a long local line', () => {
  const question: ChatRequest = { model: 'auto', messages: [{ role: 'user', content: 'What is the capital of Peru?' }] };

  it('a short line keeps the local model first, scored', () => {
    const { policy } = policyOver(new MemoryBudgetGuard(), 0.8, 1_500);
    const plan = policy.planChat(question, ['chat'], OPEN);
    expect(ids(plan)).toEqual(['local-llm', 'deepseek']);
    expect(plan.chain[0].scoreBeforeServing).toBe(true);
    expect(plan.routeReason).not.toContain('queue');
  });

  it('a line longer than the wait allowed sends the request to the vendors first, the local model last and unscored', () => {
    const { policy } = policyOver(new MemoryBudgetGuard(), 0.8, 8_000);
    const plan = policy.planChat(question, ['chat'], OPEN);
    expect(ids(plan)).toEqual(['deepseek', 'local-llm']);
    expect(plan.chain[1].scoreBeforeServing).toBeFalsy();
    expect(plan.routeReason).toMatch(/;queue:8000ms$/);
  });

  it('near the budget cap the local model stays first however long its line', async () => {
    const guard = new MemoryBudgetGuard();
    await spend(guard, 9);
    const { pressure, policy } = policyOver(guard, 0.8, 8_000);
    await pressure.refresh();
    const plan = policy.planChat(question, ['chat'], OPEN);
    expect(ids(plan)).toEqual(['local-llm', 'deepseek']);
    expect(plan.routeReason).toMatch(/;budget:0\.90$/);
  });
});
