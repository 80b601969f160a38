import { describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/auth/tenant.js';
import { configSchema } from '../../../src/config/schema.js';
import type { Attempt, RequestRecord } from '../../../src/pipeline/attempt.js';
import { RolloutRamp, type RampSettings } from '../../../src/routing/rollout-ramp.js';
import { stickyDraw } from '../../../src/routing/rollout.js';
import { RoutingState, type RoutingChange } from '../../../src/routing/routing-state.js';

const THRESHOLD = 0.75;
const DEFAULTS = configSchema.parse({}).routing.ramp;
const SMALL: RampSettings = { ...DEFAULTS, enabled: true, promote_after: 10, demote_window: 5 };

function stateAt(localShare: number): { state: RoutingState; changes: RoutingChange[] } {
  const state = new RoutingState({ localShare, escalationThresholds: { simple: THRESHOLD, medium: THRESHOLD, high: THRESHOLD, creative: THRESHOLD, brand: THRESHOLD } });
  const changes: RoutingChange[] = [];
  state.onChange((change) => changes.push(change));
  return { state, changes };
}

function attempt(route: string, outcome: Attempt['outcome'], score?: number): Attempt {
  return { modelId: 'm', backendId: route, route, outcome, startedAt: new Date(0), latencyMs: 1, isCostEstimated: false, quality: score === undefined ? undefined : { score, reasons: [] } };
}

function record(...attempts: Attempt[]): RequestRecord {
  return { requestId: 'req', tier: 'simple', cache: 'miss', attempts, served: attempts.at(-1) };
}

const good = () => record(attempt('local', 'answered', 0.9));
const bad = () => record(attempt('local', 'escalated', 0.3), attempt('deepseek', 'answered', 0.95));
const feed = (ramp: RolloutRamp, count: number, make: () => RequestRecord) => {
  for (let index = 0; index < count; index += 1) ramp.observe(make());
};

describe('routing.ramp config', () => {
  it('is off by default, with the documented defaults, and refuses steps out of order', () => {
    expect(DEFAULTS).toEqual({ enabled: false, steps: [0.1, 0.5, 0.8, 1], promote_after: 200, pass_target: 0.9, demote_window: 50, demote_below: 0.8 });
    expect(() => configSchema.parse({ routing: { ramp: { steps: [0.5, 0.1] } } })).toThrow();
  });
});

describe('RolloutRamp', () => {
  it('starts at the step nearest the configured share, and says so', () => {
    const { state, changes } = stateAt(0.3);
    new RolloutRamp(state, SMALL);
    expect(state.localShare).toBe(0.1);
    expect(changes).toEqual([expect.objectContaining({ setting: 'local_share', value: 0.1, previous: 0.3, reason: expect.stringMatching(/^ramp start/) })]);
    const onStep = stateAt(0.5);
    new RolloutRamp(onStep.state, SMALL);
    expect(onStep.changes).toEqual([]);
  });

  it('goes up one step per promote_after good local answers, with a reason each time, and stops at the top', () => {
    const { state, changes } = stateAt(0.1);
    const ramp = new RolloutRamp(state, SMALL);
    feed(ramp, 9, good);
    expect(state.localShare).toBe(0.1);
    feed(ramp, 1, good);
    expect(state.localShare).toBe(0.5);
    feed(ramp, 10, good);
    expect(state.localShare).toBe(0.8);
    feed(ramp, 10, good);
    expect(state.localShare).toBe(1);
    feed(ramp, 100, good);
    expect(state.localShare).toBe(1);
    expect(changes.map((change) => [change.previous, change.value])).toEqual([
      [0.1, 0.5],
      [0.5, 0.8],
      [0.8, 1],
    ]);
    expect(changes.map((change) => change.reason)).toEqual(Array(3).fill('ramp up: 1.00 of 10 local answers passed'));
  });

  it('holds while the pass share is under the target, and promotes once it holds', () => {
    const { state } = stateAt(0.1);
    const ramp = new RolloutRamp(state, { ...SMALL, demote_below: 0 });
    // 8 of 10 passing: under 0.9.
    for (let index = 0; index < 30; index += 1) ramp.observe(index % 5 === 0 ? bad() : good());
    expect(state.localShare).toBe(0.1);
    feed(ramp, 10, good);
    expect(state.localShare).toBe(0.5);
  });

  it('goes down one step as soon as a demote_window of local answers fails the floor, and stops at the bottom', () => {
    const { state, changes } = stateAt(1);
    const ramp = new RolloutRamp(state, SMALL);
    feed(ramp, 3, good);
    feed(ramp, 1, bad); // 3 of 4: the window is not full yet
    expect(state.localShare).toBe(1);
    feed(ramp, 1, bad); // 3 of 5 = 0.6 < 0.8
    expect(state.localShare).toBe(0.8);
    expect(changes.at(-1)?.reason).toBe('ramp down: 0.60 of the last 5 local answers passed (floor 0.8)');
    feed(ramp, 5, bad);
    expect(state.localShare).toBe(0.5);
    feed(ramp, 50, bad);
    expect(state.localShare).toBe(0.1);
    expect(changes.map((change) => change.value)).toEqual([0.8, 0.5, 0.1]);
    for (const change of changes) expect(change.reason).toMatch(/^ramp down: \d\.\d\d of the last 5 local answers passed/);
  });

  it('counts a low score as a failure even when it was served, and uses the tier threshold', () => {
    const { state } = stateAt(1);
    const ramp = new RolloutRamp(state, SMALL);
    feed(ramp, 5, () => record(attempt('local', 'answered', 0.7)));
    expect(state.localShare).toBe(0.8);
  });

  it('ignores unscored local attempts, vendor attempts and cache hits', () => {
    const { state, changes } = stateAt(0.1);
    const ramp = new RolloutRamp(state, SMALL);
    feed(ramp, 500, () => record(attempt('local', 'answered')));
    feed(ramp, 500, () => record(attempt('deepseek', 'answered', 0.99)));
    feed(ramp, 500, () => record(attempt('cache', 'cache-hit', 0.99)));
    feed(ramp, 500, () => record(attempt('local', 'failed'), attempt('openai', 'answered', 0.99)));
    expect(state.localShare).toBe(0.1);
    expect(changes).toEqual([]);
  });

  it('works with the defaults: 200 good answers per step up, a bad window of 50 down', () => {
    const { state } = stateAt(0.1);
    const ramp = new RolloutRamp(state, { ...DEFAULTS, enabled: true });
    feed(ramp, 199, good);
    expect(state.localShare).toBe(0.1);
    feed(ramp, 1, good);
    expect(state.localShare).toBe(0.5);
    feed(ramp, 40, good);
    feed(ramp, 10, bad); // 40 of 50 = 0.8: at the floor, not below it
    expect(state.localShare).toBe(0.5);
    feed(ramp, 1, bad);
    expect(state.localShare).toBe(0.1);
  });
});

describe('stickyDraw rollout', () => {
  const OPEN = { id: 'open', name: 'open' } as Tenant;
  const users = Array.from({ length: 10_000 }, (_, index) => ({ user: `user-${index}`, messages: [{ role: 'user' as const, content: `question ${index % 7}` }] }));

  it('puts each caller in the same place on every request', () => {
    for (const request of users.slice(0, 200)) {
      const later = { ...request, messages: [...request.messages, { role: 'assistant' as const, content: 'an answer' }, { role: 'user' as const, content: 'more' }] };
      expect(stickyDraw(later, OPEN)).toBe(stickyDraw(request, OPEN));
    }
  });

  it.each([0.1, 0.5, 0.8])('sends a share of %s of 10,000 callers local, within 3%%', (share) => {
    const local = users.filter((request) => stickyDraw(request, OPEN) < share).length / users.length;
    expect(Math.abs(local - share)).toBeLessThanOrEqual(0.03);
  });
});
