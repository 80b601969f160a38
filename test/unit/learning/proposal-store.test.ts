import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Proposal } from '../../../src/learning/optimizer.js';
import { ProposalStore, proposalDiff, type LiveSettings } from '../../../src/learning/proposal-store.js';

const BASELINE: LiveSettings = { local_share: 0.8, escalation_thresholds: { simple: 0.75, medium: 0.75, high: 0.75, creative: 0.75, brand: 0.75 } };

function proposal(changes: Proposal['changes']): Proposal {
  return {
    version: 0,
    created_at: '2026-12-01T00:00:00.000Z',
    window: { from: '2026-11-24T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', days: 7 },
    evidence: { requests: 100, vendor_cost_per_escalation_usd: 0.01, tiers: [], local_share: { current: 0.8, labelled_quality_at_proposed_thresholds: 0.9, labels: 40 }, classifier: null },
    changes,
    not_done: ['classifier'],
  };
}

const raiseMedium = proposal([{ setting: 'escalation_threshold', tier: 'medium', from: 0.75, to: 0.82, expected_cost_per_request_delta_usd: 0.0012, expected_quality_delta: 0.031, reason: 'medium: raised' }]);
const shareUp = proposal([{ setting: 'local_share', from: 0.8, to: 0.9, expected_cost_per_request_delta_usd: -0.001, expected_quality_delta: -0.002, reason: 'up one step' }]);

describe('ProposalStore', () => {
  it('numbers proposals as 0001.json, 0002.json and lists them in order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-proposals-'));
    const store = new ProposalStore(dir, BASELINE);
    expect(store.save(raiseMedium).version).toBe(1);
    expect(store.save(shareUp).version).toBe(2);
    expect(JSON.parse(readFileSync(join(dir, 'learning', 'proposals', '0002.json'), 'utf8')).changes[0].setting).toBe('local_share');
    expect(store.list().map((saved) => saved.version)).toEqual([1, 2]);
  });

  it('applies versions on top of each other and rolls back one at a time to the exact previous settings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-proposals-'));
    const store = new ProposalStore(dir, BASELINE);
    store.save(raiseMedium);
    store.save(shareUp);
    store.apply(1);
    store.apply(2);
    const applied = JSON.parse(readFileSync(join(dir, 'learning', 'applied.json'), 'utf8'));
    expect(applied.version).toBe(2);
    expect(applied.settings).toEqual({ local_share: 0.9, escalation_thresholds: { ...BASELINE.escalation_thresholds, medium: 0.82 } });

    expect(store.rollback()?.version).toBe(2);
    expect(store.applied()?.version).toBe(1);
    expect(store.current()).toEqual({ local_share: 0.8, escalation_thresholds: { ...BASELINE.escalation_thresholds, medium: 0.82 } });
    expect(store.rollback()?.version).toBe(1);
    expect(store.applied()?.version).toBeNull();
    expect(store.current()).toEqual(BASELINE);
    expect(store.rollback()).toBeUndefined();
  });

  it('records which proposal\'s classifier is in force; later versions keep it, and rollbacks restore the one before exactly', () => {
    const store = new ProposalStore(mkdtempSync(join(tmpdir(), 'sluice-proposals-')), BASELINE);
    const refit = { weights: [[0.1], [0.2], [0.3], [0.4], [0.5]], bias: [0, 0, 0, 0, 0], l2: 0.001 };
    store.save({ ...proposal([{ setting: 'tier_classifier', from: 0.86, to: 0.87, expected_cost_per_request_delta_usd: null, expected_quality_delta: 0, reason: 're-fitted' }]), classifier_model: refit });
    store.save(raiseMedium);
    expect(store.apply(1).settings).toEqual({ ...BASELINE, classifier_version: 1 });
    expect(store.apply(2).settings).toEqual({ local_share: 0.8, escalation_thresholds: { ...BASELINE.escalation_thresholds, medium: 0.82 }, classifier_version: 1 });
    store.rollback();
    expect(store.current()).toEqual({ ...BASELINE, classifier_version: 1 });
    store.rollback();
    expect(store.current()).toEqual(BASELINE);
    expect(store.current().classifier_version).toBeUndefined();
  });

  it('refuses a version that was never saved', () => {
    const store = new ProposalStore(mkdtempSync(join(tmpdir(), 'sluice-proposals-')), BASELINE);
    expect(() => store.apply(7)).toThrow(/no proposal 7/);
  });

  it('diffs a proposal from → to per setting with its expected effect', () => {
    const diff = proposalDiff(raiseMedium);
    expect(diff).toContain('- escalation_threshold[medium]: 0.75\n+ escalation_threshold[medium]: 0.82');
    expect(diff).toContain('+$0.001200/request, quality +0.0310');
    expect(proposalDiff(proposal([]))).toContain('(no changes)');
  });
});
