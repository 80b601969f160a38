import type { Tier } from '../config/schema.js';
import type { LiveClassifier, TierClassifying } from './router.js';

export interface RoutingSettings {
  /** Share of eligible requests that may go to a local model (rollout), 0..1. */
  localShare: number;
  /** A scored answer below this is escalated to the next candidate, per tier. */
  escalationThresholds: Readonly<Record<Tier, number>>;
}

export type RoutingChange =
  | { setting: 'local_share'; value: number; previous: number; reason: string }
  | { setting: 'escalation_threshold'; tier: Tier; value: number; previous: number; reason: string }
  /** The tier classifier: its version (`shipped`, `optimizer v3`), not the weights, so the log line stays short. */
  | { setting: 'tier_classifier'; value: string; previous: string; reason: string };

/**
 * The routing settings that change while the gateway runs (the rollout ramp, the learning loop,
 * drift protection), and the tier classifier the optimizer re-fits. Config gives the starting
 * values and stays frozen; this one object holds the live ones, and every change goes through it,
 * so it can be logged and exported.
 */
export class RoutingState {
  private current: RoutingSettings;
  private readonly listeners = new Set<(change: RoutingChange) => void>();

  /** `classifier`: the router's, where it may be swapped (a gateway); absent, setClassifier refuses. */
  constructor(
    initial: RoutingSettings,
    readonly classifier?: LiveClassifier,
  ) {
    this.current = freeze(initial);
  }

  get localShare(): number {
    return this.current.localShare;
  }

  escalationThreshold(tier: Tier | undefined): number {
    return tier ? this.current.escalationThresholds[tier] : Math.max(...Object.values(this.current.escalationThresholds));
  }

  snapshot(): RoutingSettings {
    return this.current;
  }

  setLocalShare(value: number, reason: string): void {
    const next = clampShare(value);
    const previous = this.current.localShare;
    if (next === previous) return;
    this.current = freeze({ ...this.current, localShare: next });
    this.emit({ setting: 'local_share', value: next, previous, reason });
  }

  setEscalationThreshold(tier: Tier, value: number, reason: string): void {
    const next = clampShare(value);
    const previous = this.current.escalationThresholds[tier];
    if (next === previous) return;
    this.current = freeze({ ...this.current, escalationThresholds: { ...this.current.escalationThresholds, [tier]: next } });
    this.emit({ setting: 'escalation_threshold', tier, value: next, previous, reason });
  }

  /** Puts a classifier into the router's holder; `version` names it in the change and the log. */
  setClassifier(next: TierClassifying, version: string, reason: string): void {
    if (!this.classifier) throw new Error('this routing state has no swappable classifier');
    if (version === this.classifier.version) return;
    const previous = this.classifier.swap(next, version);
    this.emit({ setting: 'tier_classifier', value: version, previous, reason });
  }

  onChange(listener: (change: RoutingChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: RoutingChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

function clampShare(value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`not a number between 0 and 1: ${value}`);
  return Math.min(1, Math.max(0, value));
}

function freeze(settings: RoutingSettings): RoutingSettings {
  return Object.freeze({ ...settings, escalationThresholds: Object.freeze({ ...settings.escalationThresholds }) });
}
