import { describe, expect, it } from 'vitest';
import { MemoryBudgetGuard } from '../../../src/budget/memory-budget-guard.js';
import { budgetGuardCases } from './budget-guard-cases.js';

budgetGuardCases('memory guard', async (options) => new MemoryBudgetGuard(options), 200);

describe('memory guard: construction', () => {
  it('refuses an unknown time zone and out-of-range thresholds', () => {
    expect(() => new MemoryBudgetGuard({ timeZone: 'Mars/Olympus_Mons' })).toThrow(RangeError);
    expect(() => new MemoryBudgetGuard({ thresholds: [0] })).toThrow(RangeError);
    expect(() => new MemoryBudgetGuard({ thresholds: [1.5] })).toThrow(RangeError);
    expect(() => new MemoryBudgetGuard({ defaultHoldTtlSeconds: 0 })).toThrow(RangeError);
  });
});
