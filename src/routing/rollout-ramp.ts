import type { Config, Tier } from '../config/schema.js';
import type { RoutingState } from './routing-state.js';

export type RampSettings = Config['routing']['ramp'];

/**
 * What the ramp reads of a finished request: the pipeline's `RequestRecord` fits it as it is
 * (routing may not import the pipeline, so the shape is named here).
 */
export interface RampRecord {
  readonly tier?: Tier;
  readonly attempts: readonly { readonly route: string; readonly outcome: string; readonly quality?: { readonly score: number } }[];
}

/**
 * The rollout auto-ramp: moves `local_share` one step up or down the configured steps on the
 * quality of scored local answers, through `RoutingState.setLocalShare` (so every change is
 * logged and exported). An answer passes when it scored at or above its tier's escalation
 * threshold and was not escalated. The rule is the pass share, not the mean score:
 * - up one step once the last `promote_after` scored local answers since the last change pass
 *   at a share of at least `pass_target`;
 * - down one step as soon as the last `demote_window` of them pass at a share below `demote_below`
 *   (checked first, on every answer).
 * Each change starts the count afresh: the new step earns its own evidence. Pure: no timers, no I/O.
 */
export class RolloutRamp {
  /** Pass (true) or fail of each scored local answer since the last change, newest last. */
  private history: boolean[] = [];
  private readonly kept: number;

  constructor(
    private readonly state: RoutingState,
    private readonly settings: RampSettings,
  ) {
    if (settings.steps.length === 0) throw new RangeError('ramp: no steps');
    this.kept = Math.max(settings.promote_after, settings.demote_window);
    const start = settings.steps[this.stepIndex()] ?? state.localShare;
    state.setLocalShare(start, `ramp start: local_share ${state.localShare} snapped to step ${start}`);
  }

  /** One finished request: each local attempt that was scored counts; the rest are ignored. */
  observe(record: RampRecord): void {
    const threshold = this.state.escalationThreshold(record.tier);
    for (const attempt of record.attempts) {
      if (attempt.route !== 'local' || !attempt.quality) continue;
      this.history.push(attempt.outcome !== 'escalated' && attempt.quality.score >= threshold);
      if (this.history.length > this.kept) this.history.shift();
      this.decide();
    }
  }

  private decide(): void {
    const { steps, promote_after, pass_target, demote_window, demote_below } = this.settings;
    const index = this.stepIndex();
    if (this.history.length >= demote_window) {
      const passed = passShare(this.history.slice(-demote_window));
      if (passed < demote_below && index > 0) {
        this.move(steps[index - 1], `ramp down: ${passed.toFixed(2)} of the last ${demote_window} local answers passed (floor ${demote_below})`);
        return;
      }
    }
    if (this.history.length >= promote_after && index < steps.length - 1) {
      const passed = passShare(this.history.slice(-promote_after));
      if (passed >= pass_target) this.move(steps[index + 1], `ramp up: ${passed.toFixed(2)} of ${promote_after} local answers passed`);
    }
  }

  private move(share: number | undefined, reason: string): void {
    if (share === undefined) return;
    this.state.setLocalShare(share, reason);
    this.history = [];
  }

  /** The step nearest the live share (the lower one on a tie), so a change made elsewhere is followed. */
  private stepIndex(): number {
    const share = this.state.localShare;
    let best = 0;
    this.settings.steps.forEach((step, index) => {
      if (Math.abs(step - share) < Math.abs((this.settings.steps[best] ?? step) - share)) best = index;
    });
    return best;
  }
}

function passShare(outcomes: readonly boolean[]): number {
  return outcomes.filter(Boolean).length / outcomes.length;
}
