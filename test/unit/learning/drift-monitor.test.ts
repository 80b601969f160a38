import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { DriftMonitor, type DriftSettings, type DriftVerdict } from '../../../src/learning/drift-monitor.js';
import { seededRandom } from '../../../src/learning/drift-stats.js';
import { SluiceMetrics } from '../../../src/metrics/metrics.js';
import type { Attempt, RequestRecord } from '../../../src/pipeline/attempt.js';
import { RoutingState } from '../../../src/routing/routing-state.js';

const DEFAULTS = configSchema.parse({}).learning.drift;
const THRESHOLDS = { simple: 0.75, medium: 0.75, high: 0.75, creative: 0.75, brand: 0.75 };

/** What a stream of traffic looks like; `shifted` overrides apply from a given request on. */
interface Traffic {
  tierMix: Record<string, number>;
  qualityMean: number;
  errorRate: number;
  latencyMedianMs: number;
  topics: number;
  /** Share of prompts about a topic the baseline never saw. */
  newTopicShare: number;
}
const STABLE: Traffic = { tierMix: { simple: 0.6, medium: 0.2, high: 0.15, brand: 0.05 }, qualityMean: 0.85, errorRate: 0.01, latencyMedianMs: 400, topics: 6, newTopicShare: 0 };
const DIMENSIONS = 24;

/** A seeded stream of chat records: tier, a scored local answer (escalated below 0.75), errors, latency, a topic. */
function trafficStream(seed: number) {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const pick = (mix: Record<string, number>) => {
    let draw = random();
    for (const [tier, share] of Object.entries(mix)) if ((draw -= share) <= 0) return tier;
    return Object.keys(mix)[0]!;
  };
  return (traffic: Traffic): RequestRecord => {
    const tier = pick(traffic.tierMix) as RequestRecord['tier'];
    const score = Math.min(1, Math.max(0, traffic.qualityMean + 0.08 * normal()));
    const latencyMs = traffic.latencyMedianMs * Math.exp(0.4 * normal());
    const attempt = (fields: Partial<Attempt>): Attempt => ({ modelId: 'local-llm', backendId: 'local', route: 'local', outcome: 'answered', startedAt: new Date(0), latencyMs, isCostEstimated: false, ...fields });
    const topic = random() < traffic.newTopicShare ? 15 : Math.floor(random() * traffic.topics);
    const inputText = `topic ${topic} variant ${random()}`;
    if (random() < traffic.errorRate) return { requestId: 'r', tier, cache: 'miss', inputText, attempts: [attempt({ outcome: 'failed' })] };
    const local = attempt({ outcome: score < 0.75 ? 'escalated' : 'answered', quality: { score, reasons: [] } });
    const served = score < 0.75 ? attempt({ route: 'deepseek', backendId: 'deepseek', modelId: 'deepseek-chat' }) : local;
    return { requestId: 'r', tier, cache: 'miss', inputText, attempts: served === local ? [local] : [local, served], served };
  };
}

/** A synthetic sentence embedding: the topic's direction plus noise, unit length. */
function topicEmbedder(seed: number) {
  const random = seededRandom(seed);
  const directions = Array.from({ length: 16 }, () => Array.from({ length: DIMENSIONS }, () => random() - 0.5));
  return async (text: string) => {
    const topic = Number(/topic (\d+)/.exec(text)?.[1] ?? 0);
    const vector = directions[topic]!.map((value) => value + (random() - 0.5) * 0.6);
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  };
}

function logSink() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

interface Setup {
  seed?: number;
  settings?: Partial<DriftSettings>;
  routing?: RoutingState;
  withEmbeddings?: boolean;
}

function monitorFor(setup: Setup = {}) {
  const metrics = new SluiceMetrics();
  const { logger, lines } = logSink();
  let clockMs = 0;
  const monitor = new DriftMonitor({
    settings: { ...DEFAULTS, ...setup.settings },
    qualityTarget: 0.75,
    logger,
    metrics,
    routing: setup.routing,
    embed: setup.withEmbeddings ? topicEmbedder(setup.seed ?? 1) : undefined,
    // A second per request: the rate limit (2 a second) lets every prompt through.
    clockMs: () => (clockMs += 1000),
  });
  return { monitor, metrics, lines };
}

/** Feeds `count` records of `traffic`, checking every `checkEvery`; returns every verdict that drifted. */
async function feed(monitor: DriftMonitor, next: (traffic: Traffic) => RequestRecord, traffic: Traffic, count: number, checkEvery = 250) {
  const drifted: DriftVerdict[] = [];
  for (let index = 1; index <= count; index += 1) {
    monitor.observe(next(traffic));
    await monitor.idle();
    if (index % checkEvery === 0) drifted.push(...monitor.check().filter((verdict) => verdict.isDrift));
  }
  return drifted;
}

async function alertCount(metrics: SluiceMetrics, signal: string): Promise<number> {
  const values = (await metrics.driftAlerts.get()).values;
  return values.find((value) => value.labels.signal === signal)?.value ?? 0;
}

describe('drift monitor: a stable stream', () => {
  it('raises no alert over 10k requests, on nearly every seed (false-alarm rate measured)', async () => {
    const seeds = 40;
    let runsWithAlarm = 0;
    const signals: string[] = [];
    for (let seed = 1; seed <= seeds; seed += 1) {
      const { monitor } = monitorFor({ seed, withEmbeddings: true });
      const drifted = await feed(monitor, trafficStream(seed), STABLE, 10_000);
      if (drifted.length > 0) runsWithAlarm += 1;
      signals.push(...drifted.map((verdict) => verdict.signal));
    }
    // Each run makes about 35 judged checks of 7 signals, on overlapping windows. With the
    // defaults it stays within 5% of 40 runs (at p_value 0.01 and ks_min_statistic 0.1, 5 of 20 runs alarmed).
    expect(runsWithAlarm / seeds, `signals that alarmed: ${signals.join(', ')}`).toBeLessThanOrEqual(0.05);
  }, 120_000);

  it('judges nothing before both windows hold min_samples', () => {
    const { monitor } = monitorFor();
    const next = trafficStream(1);
    for (let index = 0; index < DEFAULTS.baseline_size + DEFAULTS.min_samples - 1; index += 1) monitor.observe(next(STABLE));
    expect(monitor.check()).toEqual([]);
    monitor.observe(next(STABLE));
    expect(monitor.check().map((verdict) => verdict.signal)).toEqual(['tier_mix', 'escalation_rate', 'error_rate']);
    // Quality and latency come with answered requests only (1% fail): their windows fill a little later.
    for (let index = 0; index < 50; index += 1) monitor.observe(next(STABLE));
    expect(monitor.check().map((verdict) => verdict.signal)).toEqual(['tier_mix', 'quality', 'escalation_rate', 'error_rate', 'latency']);
  });
});

describe('drift monitor: a shifted stream', () => {
  it.each([
    ['quality', { qualityMean: 0.78 }],
    ['latency', { latencyMedianMs: 600 }],
    ['tier_mix', { tierMix: { simple: 0.3, medium: 0.2, high: 0.45, brand: 0.05 } }],
    ['error_rate', { errorRate: 0.06 }],
    ['escalation_rate', { qualityMean: 0.8 }],
  ] as const)('alerts on %s within one recent window of the shift', async (signal, change) => {
    const { monitor, metrics, lines } = monitorFor();
    const next = trafficStream(42);
    expect(await feed(monitor, next, STABLE, 2_000)).toEqual([]);
    const drifted = await feed(monitor, next, { ...STABLE, ...change }, DEFAULTS.window_size);
    expect(drifted.map((verdict) => verdict.signal)).toContain(signal);
    expect(await alertCount(metrics, signal)).toBe(1);
    expect(lines.find((line) => line.level === 40 && line.signal === signal)).toMatchObject({ event: 'drift', isDrift: true });
    const score = (await metrics.driftScore.get()).values.find((value) => value.labels.signal === signal)?.value;
    expect(score).toBeGreaterThan(0);
  });

  it('counts one alert for a drift that lasts, and a new one after it cleared', async () => {
    const { monitor, metrics } = monitorFor();
    const next = trafficStream(5);
    await feed(monitor, next, STABLE, 1_500);
    await feed(monitor, next, { ...STABLE, errorRate: 0.1 }, 2_000);
    expect(await alertCount(metrics, 'error_rate')).toBe(1);
    await feed(monitor, next, STABLE, 1_000);
    await feed(monitor, next, { ...STABLE, errorRate: 0.1 }, 1_000);
    expect(await alertCount(metrics, 'error_rate')).toBe(2);
  });

  it('sees a new topic in the prompts (cluster population and centroid)', async () => {
    const { monitor, metrics } = monitorFor({ withEmbeddings: true });
    const next = trafficStream(9);
    expect(await feed(monitor, next, STABLE, 1_500)).toEqual([]);
    // A third of the recent prompts are about something the baseline never saw.
    const drifted = await feed(monitor, next, { ...STABLE, newTopicShare: 0.33 }, DEFAULTS.window_size);
    expect(new Set(drifted.map((verdict) => verdict.signal))).toEqual(new Set(['prompt_clusters', 'prompt_centroid']));
    expect(await alertCount(metrics, 'prompt_clusters')).toBe(1);
  });

  it('drops prompts while an embedding is in flight or above the rate', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const monitor = new DriftMonitor({
      settings: { ...DEFAULTS, embed_per_second: 1 },
      qualityTarget: 0.75,
      logger: pino({ level: 'silent' }),
      metrics: new SluiceMetrics(),
      embed: () => {
        calls += 1;
        return new Promise((resolve) => (release = () => resolve([1, 0])));
      },
      clockMs: () => 5_000,
    });
    const next = trafficStream(1);
    for (let index = 0; index < 10; index += 1) monitor.observe(next(STABLE));
    expect(calls).toBe(1);
    release();
    await monitor.idle();
    monitor.observe(next(STABLE)); // same instant: over the rate of one a second
    expect(calls).toBe(1);
  });
});

describe('drift monitor: quality protection', () => {
  it('lowers local_share step by step to the floor while quality is below target, then raises it back', async () => {
    const routing = new RoutingState({ localShare: 0.8, escalationThresholds: THRESHOLDS });
    const reasons: string[] = [];
    routing.onChange((change) => reasons.push(change.reason));
    const { monitor } = monitorFor({ routing, settings: { baseline_size: 200, window_size: 200, min_samples: 100 } });
    const next = trafficStream(3);
    const shares: number[] = [];
    const run = async (traffic: Traffic, checks: number) => {
      for (let check = 0; check < checks; check += 1) {
        await feed(monitor, next, traffic, 200, 200);
        shares.push(routing.localShare);
      }
    };
    await run(STABLE, 2);
    await run({ ...STABLE, qualityMean: 0.6 }, 8);
    await run(STABLE, 8);
    expect(shares.map((share) => Number(share.toFixed(2)))).toEqual([0.8, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.8, 0.8]);
    expect(reasons[0]).toMatch(/^drift: mean quality 0\.\d+ of the last 200 scored answers is below the target 0\.75/);
    expect(reasons.at(-1)).toMatch(/back at or above the target/);
  });

  it('leaves local_share alone without a routing state (the ramp owns it) or with protect_quality off', async () => {
    const routing = new RoutingState({ localShare: 0.8, escalationThresholds: THRESHOLDS });
    const { monitor } = monitorFor({ routing, settings: { baseline_size: 200, window_size: 200, min_samples: 100, protect_quality: false } });
    await feed(monitor, trafficStream(3), { ...STABLE, qualityMean: 0.5 }, 1_000, 200);
    expect(routing.localShare).toBe(0.8);
  });
});
