import { describe, expect, it } from 'vitest';
import { liveFigures, liveTable, type LiveOutcome } from '../../../eval/live-metrics.js';
import { loadRoutingSet } from '../../../eval/routing/check-set.js';
import type { SetTier } from '../../../eval/routing/set-item.js';

const set = loadRoutingSet();
const itemOf = (tier: SetTier, index = 0) => set.items.filter((item) => item.tier === tier)[index]!;

function outcome(tier: SetTier, index: number, fields: Partial<LiveOutcome>): LiveOutcome {
  return { item: itemOf(tier, index), decided: tier, route: 'deepseek', passes: true, isEscalated: false, costUsd: 0.001, baselineCostUsd: 0.002, latencyMs: 100, ...fields };
}

describe('live eval figures', () => {
  const outcomes = [
    outcome('simple', 0, { route: 'local', costUsd: 0, latencyMs: 1000 }),
    outcome('simple', 1, { route: 'local', costUsd: 0, passes: false, latencyMs: 3000 }),
    outcome('simple', 2, { route: 'deepseek', isEscalated: true, latencyMs: 5000 }),
    outcome('medium', 0, { decided: 'high', route: 'anthropic', costUsd: 0.01 }),
  ];

  it('counts every item alike unweighted, and gives the tiers the plan shares when weighted', () => {
    const plain = liveFigures(outcomes, false);
    expect(plain.tierAccuracy).toBeCloseTo(0.75);
    expect(plain.localShare).toBeCloseTo(0.5);
    expect(plain.simpleLocal).toBeCloseTo(2 / 3);
    expect(plain.passRate).toBeCloseTo(0.75);
    expect(plain.escalationRate).toBeCloseTo(0.25);
    expect(plain.costPerRequestUsd).toBeCloseTo((0 + 0 + 0.001 + 0.01) / 4);
    expect(plain.confusion.medium.high).toBe(1);

    // Only simple (60%) and medium (20%) are present: they carry 0.6 : 0.2 of the traffic.
    const mix = liveFigures(outcomes, true);
    expect(mix.tierAccuracy).toBeCloseTo(0.6 / 0.8);
    expect(mix.passRate).toBeCloseTo(((2 / 3) * 0.6 + 0.2) / 0.8);
  });

  it('reads latency percentiles per labelled tier, and prints a table with them', () => {
    const figures = liveFigures(outcomes, false);
    expect(figures.latency.simple).toEqual({ p50: 3000, p95: 5000, items: 3 });
    expect(figures.latency.all.items).toBe(4);
    const table = liveTable('held-out', figures, 0.8123, 2);
    expect(table).toContain('| validator ROC AUC on the local answers it scored | 0.812 (2) |');
    expect(table).toContain('| simple | 3.00 s | 5.00 s | 3 |');
  });
});
