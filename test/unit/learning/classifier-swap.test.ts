import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyClassifier } from '../../../src/learning/classifier-swap.js';
import type { Proposal } from '../../../src/learning/optimizer.js';
import { OptimizerControl, OptimizeRefusal } from '../../../src/learning/optimizer-control.js';
import { ProposalStore, type LiveSettings } from '../../../src/learning/proposal-store.js';
import { TierRouter } from '../../../src/routing/router.js';
import { RoutingState } from '../../../src/routing/routing-state.js';
import { loadTierClassifier } from '../../../src/routing/tier-classifier.js';

const BASELINE: LiveSettings = { local_share: 1, escalation_thresholds: { simple: 0.75, medium: 0.75, high: 0.75, creative: 0.75, brand: 0.75 } };
const SETTINGS = { windowDays: 7, minLabels: 30, agreementGood: 0.5, vendorQuality: 0.9, qualityTarget: 0.75, localShareBounds: [0.5, 1] as const, localShareStep: 0.1, qualityMargin: 0.05 };
const shipped = loadTierClassifier().model;

/** A saved proposal whose re-fit calls everything `high`: the bias alone decides. */
function saveRefit(store: ProposalStore): number {
  const featuresOnly = { weights: shipped.featuresOnly.weights.map((row) => row.map(() => 0)), bias: shipped.tiers.map((tier) => (tier === 'high' ? 5 : 0)), l2: shipped.featuresOnly.l2 };
  const proposal: Proposal = {
    version: 0,
    created_at: new Date().toISOString(),
    window: { from: new Date().toISOString(), to: new Date().toISOString(), days: 7 },
    evidence: { requests: 0, vendor_cost_per_escalation_usd: null, tiers: [], local_share: { current: 1, labelled_quality_at_proposed_thresholds: null, labels: 0 }, classifier: null },
    changes: [{ setting: 'tier_classifier', from: 0.86, to: 0.87, expected_cost_per_request_delta_usd: null, expected_quality_delta: 0, reason: 're-fitted' }],
    classifier_model: featuresOnly,
    not_done: [],
  };
  return store.save(proposal).version;
}

const ask = { model: 'auto', messages: [{ role: 'user' as const, content: 'what is the capital of Peru?' }] };

describe('putting a re-fitted classifier into routing', () => {
  it('swaps the shipped model for the proposal\'s re-fit, keeps the rest of the artefact, and swaps back', () => {
    const store = new ProposalStore(mkdtempSync(join(tmpdir(), 'sluice-swap-')), BASELINE);
    const version = saveRefit(store);
    const routing = new RoutingState({ localShare: 1, escalationThresholds: BASELINE.escalation_thresholds }, TierRouter.liveClassifierFor('trained'));
    expect(routing.classifier?.classify(ask).tier).toBe('simple');
    applyClassifier(routing, { ...BASELINE, classifier_version: version }, store, 'optimizer v1');
    expect(routing.classifier?.version).toBe('optimizer v1');
    expect(routing.classifier?.classify(ask).tier).toBe('high');
    applyClassifier(routing, BASELINE, store, 'optimizer rollback of v1');
    expect(routing.classifier?.version).toBe('shipped');
    expect(routing.classifier?.classify(ask).tier).toBe('simple');
  });

  it('a gateway on the rules classifier refuses to apply a classifier proposal and writes nothing', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-swap-'));
    const store = new ProposalStore(dataDir, BASELINE);
    const version = saveRefit(store);
    const routing = new RoutingState({ localShare: 1, escalationThresholds: BASELINE.escalation_thresholds }, TierRouter.liveClassifierFor('rules'));
    const control = new OptimizerControl({ store, settings: SETTINGS, routing });
    expect(() => control.apply(version)).toThrow(OptimizeRefusal);
    expect(() => control.apply(version)).toThrow(/changes the tier classifier, and this gateway routes with routing.classifier "rules"/);
    expect(existsSync(join(dataDir, 'learning', 'applied.json'))).toBe(false);
    expect(routing.classifier?.version).toBe('rules');
  });

  it('applied.json naming a proposal without a classifier is an error that says so', () => {
    const store = new ProposalStore(mkdtempSync(join(tmpdir(), 'sluice-swap-')), BASELINE);
    const version = saveRefit(store);
    const plain = store.save({ ...store.get(version), changes: [], classifier_model: undefined }).version;
    const routing = new RoutingState({ localShare: 1, escalationThresholds: BASELINE.escalation_thresholds }, TierRouter.liveClassifierFor('trained'));
    expect(() => applyClassifier(routing, { ...BASELINE, classifier_version: plain }, store, 'start')).toThrow(/names proposal 2 for the tier classifier, and it carries no classifier_model/);
    expect(routing.classifier?.version).toBe('shipped');
  });
});
