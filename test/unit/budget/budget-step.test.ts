import { describe, expect, it } from 'vitest';
import { MemoryBudgetGuard } from '../../../src/budget/memory-budget-guard.js';
import { parseConfig } from '../../../src/config/load.js';
import { BudgetStep } from '../../../src/pipeline/budget-step.js';

const model = { id: 'gpt-4o', backend: 'x', capabilities: ['chat' as const], price: { input_per_1m: 1, output_per_1m: 1 }, fallback: [] };
const tenant = { id: 'team', name: 'team', monthlyBudgetUsd: 5 };

function step(budget: Record<string, unknown>) {
  const config = parseConfig({ budget });
  return new BudgetStep(new MemoryBudgetGuard({ timeZone: config.budget.time_zone }), config.budget);
}

async function refusal(promise: Promise<unknown>) {
  return promise.then(
    () => undefined,
    (error) => error,
  );
}

describe('BudgetStep', () => {
  it('a daily cap binds before the monthly one', async () => {
    const budget = step({ monthly_usd: 100, daily_usd: 1 });
    await budget.reserve(tenant, model, 0.6, 'req_1');
    const error = await refusal(budget.reserve(tenant, model, 0.6, 'req_2'));
    expect(error.kind).toBe('budget-exceeded');
    expect(error.message).toMatch(/global budget for \d{4}-\d{2}-\d{2}/);
  });

  it('the key’s own monthly budget binds too, and a settle frees what was not spent', async () => {
    const budget = step({ monthly_usd: 100 });
    const hold = await budget.reserve(tenant, { ...model, monthly_budget_usd: undefined }, 4, 'req_1');
    expect((await refusal(budget.reserve(tenant, model, 2, 'req_2'))).message).toMatch(/tenant:team/);
    await hold.settle(1);
    await expect(budget.reserve(tenant, model, 2, 'req_3')).resolves.toBeDefined();
  });

  it('a model cap applies only to that model', async () => {
    const budget = step({ monthly_usd: 100 });
    const capped = { ...model, monthly_budget_usd: 0.5 };
    expect((await refusal(budget.reserve({ id: 'open', name: 'open' }, capped, 1, 'req_1'))).message).toMatch(/model:gpt-4o/);
    await expect(budget.reserve({ id: 'open', name: 'open' }, { ...model, id: 'other' }, 1, 'req_2')).resolves.toBeDefined();
  });

  it('free calls hold nothing', async () => {
    const budget = step({ monthly_usd: 0 });
    const hold = await budget.reserve(tenant, model, 0, 'req_1');
    expect(await hold.settle(0)).toBe(false);
  });
});
