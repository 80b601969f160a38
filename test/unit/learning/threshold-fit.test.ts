import { describe, expect, it } from 'vitest';
import { fitThreshold, type LabelledScore } from '../../../src/learning/threshold-fit.js';

const labels = (...pairs: [number, boolean][]): LabelledScore[] => pairs.map(([score, good]) => ({ score, good }));

describe('fitThreshold', () => {
  // Ten local answers: the four scored below 0.7 are bad, the six above are good.
  const poorBelowSeventy = labels([0.4, false], [0.5, false], [0.6, false], [0.65, false], [0.7, true], [0.75, true], [0.8, true], [0.85, true], [0.9, true], [0.95, true]);

  it('raises the threshold to the cheapest one that meets the target', () => {
    // At 0.5: 0.4 escalated (0.9), 0.5..0.65 served bad, six good → (6 + 0.9) / 10 = 0.69 < 0.75.
    // At 0.6: 0.4, 0.5 escalated → (6 + 1.8) / 10 = 0.78 ≥ 0.75, the fewest escalations that pass.
    const fit = fitThreshold({ labels: poorBelowSeventy, current: 0.5, target: 0.75, vendorQuality: 0.9, minLabels: 10 });
    expect(fit.changed).toBe(true);
    expect(fit.proposed.threshold).toBe(0.6);
    expect(fit.proposed.escalationRate).toBeCloseTo(0.2);
    expect(fit.proposed.expectedQuality).toBeCloseTo(0.78);
    expect(fit.current.escalationRate).toBeCloseTo(0.1);
    expect(fit.current.expectedQuality).toBeCloseTo(0.69);
    expect(fit.reason).toMatch(/^raised/);
  });

  it('lowers a threshold that escalates more than the target needs', () => {
    // At 0.9 eight are escalated: (2 + 7.2) / 10 = 0.92; 0.6 already reaches 0.78.
    const fit = fitThreshold({ labels: poorBelowSeventy, current: 0.9, target: 0.75, vendorQuality: 0.9, minLabels: 10 });
    expect(fit.proposed.threshold).toBe(0.6);
    expect(fit.reason).toMatch(/^lowered/);
  });

  it('with a stricter target, escalates every bad answer', () => {
    // At 0.7 all four bad ones go to the vendor: (6 + 3.6) / 10 = 0.96.
    const fit = fitThreshold({ labels: poorBelowSeventy, current: 0.5, target: 0.95, vendorQuality: 0.9, minLabels: 10 });
    expect(fit.proposed.threshold).toBe(0.7);
    expect(fit.proposed.expectedQuality).toBeCloseTo(0.96);
  });

  it('changes nothing with fewer labels than min_labels', () => {
    const fit = fitThreshold({ labels: poorBelowSeventy.slice(0, 9), current: 0.5, target: 0.75, vendorQuality: 0.9, minLabels: 10 });
    expect(fit.changed).toBe(false);
    expect(fit.proposed.threshold).toBe(0.5);
    expect(fit.reason).toContain('fewer than the 10');
  });

  it('keeps a threshold that already meets the target at the least escalation', () => {
    const fit = fitThreshold({ labels: poorBelowSeventy, current: 0.6, target: 0.75, vendorQuality: 0.9, minLabels: 10 });
    expect(fit.changed).toBe(false);
    expect(fit.proposed.threshold).toBe(0.6);
  });

  it('a target no threshold reaches: the safest threshold, and says so', () => {
    // Vendor answers assumed 0.8, target 0.9: at 0.9 (1 + 2.4) / 4 = 0.85 is the best reachable (1 escalates all: 0.8).
    const allBad = labels([0.6, false], [0.7, false], [0.8, false], [0.9, true]);
    const fit = fitThreshold({ labels: allBad, current: 0.75, target: 0.9, vendorQuality: 0.8, minLabels: 4 });
    expect(fit.meetsTarget).toBe(false);
    expect(fit.proposed.threshold).toBe(0.9);
    expect(fit.proposed.expectedQuality).toBeCloseTo((1 + 3 * 0.8) / 4);
    expect(fit.reason).toContain('no threshold reaches the quality target 0.9');
  });
});
