import type { Logger } from 'pino';
import type { Adapter } from '../../adapters/spec/index.js';
import { postWebhook } from '../budget/threshold-webhook.js';
import { localPromptEmbedder } from '../cache/create-response-cache.js';
import { TIERS, type Config } from '../config/schema.js';
import type { SluiceMetrics } from '../metrics/metrics.js';
import type { RequestRecord } from '../pipeline/attempt.js';
import type { RoutingState } from '../routing/routing-state.js';
import { centroid, cosineDistance, countLabels, kMeans, kolmogorovSmirnov, mean, populationStability, twoProportionZ, type Clusters, type TestResult } from './drift-stats.js';

export type DriftSettings = Config['learning']['drift'];

export const DRIFT_SIGNALS = ['prompt_centroid', 'prompt_clusters', 'tier_mix', 'quality', 'escalation_rate', 'error_rate', 'latency'] as const;
export type DriftSignal = (typeof DRIFT_SIGNALS)[number];

/** One signal's judgement at one check. */
export interface DriftVerdict {
  readonly signal: DriftSignal;
  /** The sluice_drift_score value: KS D, |z|, PSI or cosine distance (see the metric's help). */
  readonly score: number;
  readonly pValue?: number;
  readonly isDrift: boolean;
  readonly baselineCount: number;
  readonly recentCount: number;
}

/** A signal turning from stable to drifted, when it did (wall clock). */
export interface DriftAlert extends DriftVerdict {
  readonly at: Date;
}

/** How many alerts `recentAlerts` keeps: enough for the dashboard's list, bounded for a long-running gateway. */
const KEPT_ALERTS = 50;

export type PromptEmbedder = (text: string) => Promise<ArrayLike<number>>;

export interface DriftMonitorOptions {
  settings: DriftSettings;
  /** targets.quality: below it, local_share is lowered. */
  qualityTarget: number;
  logger: Logger;
  metrics: Pick<SluiceMetrics, 'driftScore' | 'driftAlerts'>;
  /** The live routing state to lower local_share through; none leaves routing alone (the ramp owns it). */
  routing?: RoutingState;
  /** Embeds one prompt; none turns the two prompt signals off. */
  embed?: PromptEmbedder;
  /** Milliseconds, for the embedding rate; tests hand in their own clock. */
  clockMs?: () => number;
}

/** The tier mix's categories: every tier, and `none` for a request not routed by tier. */
const TIER_MIX = [...TIERS, 'none'] as const;

/**
 * The first `size` values of a stream (the baseline, frozen) and the latest `size` after it. A
 * frozen baseline rather than a rolling older window: a slow drift moves a rolling baseline
 * along with it and is never seen, while a frozen one keeps "what this gateway served when it
 * started" — a restart takes a new baseline.
 */
class Windows<T> {
  readonly baseline: T[] = [];
  recent: T[] = [];

  constructor(
    private readonly baselineSize: number,
    private readonly recentSize: number,
  ) {}

  add(value: T): void {
    if (this.baseline.length < this.baselineSize) this.baseline.push(value);
    else {
      this.recent.push(value);
      // Trimmed in batches so an add stays O(1) amortised.
      if (this.recent.length >= 2 * this.recentSize) this.recent = this.recent.slice(-this.recentSize);
    }
  }

  latest(): T[] {
    return this.recent.slice(-this.recentSize);
  }

  isBaselineFull(): boolean {
    return this.baseline.length >= this.baselineSize;
  }
}

/**
 * Drift detection: finished chat requests are reduced to a few numbers each (tier, quality scores,
 * escalated, failed, backend latency) and a sampled prompt embedding; every check compares the
 * recent window with the baseline, per signal, with a test and a threshold from config. A signal
 * turning from stable to drifted raises one alert (warn log, counter, webhook); the score gauge is
 * set at every check. While the recent mean quality is below target, local_share is lowered one
 * step per check to a floor, and raised back one step per check, to where it was, once it recovers.
 */
export class DriftMonitor {
  private readonly tiers: Windows<string>;
  private readonly quality: Windows<number>;
  private readonly escalated: Windows<boolean>;
  private readonly failed: Windows<boolean>;
  private readonly latency: Windows<number>;
  private readonly prompts: Windows<ArrayLike<number>>;
  /** Every quality score, baseline or not: the protection needs no baseline. */
  private latestQuality: number[] = [];
  private clusters: Clusters | undefined;
  private readonly drifted = new Set<DriftSignal>();
  private readonly alerts: DriftAlert[] = [];
  /** The local_share to come back to, while the protection holds it lowered. */
  private restoreShare: number | undefined;
  private embedding: Promise<void> | undefined;
  private lastEmbedAtMs = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly webhook: ((verdict: DriftVerdict) => Promise<void>) | undefined;

  constructor(private readonly options: DriftMonitorOptions) {
    const { baseline_size: baselineSize, window_size: windowSize, webhook_url: webhookUrl } = options.settings;
    this.tiers = new Windows(baselineSize, windowSize);
    this.quality = new Windows(baselineSize, windowSize);
    this.escalated = new Windows(baselineSize, windowSize);
    this.failed = new Windows(baselineSize, windowSize);
    this.latency = new Windows(baselineSize, windowSize);
    this.prompts = new Windows(baselineSize, windowSize);
    this.webhook = webhookUrl ? (verdict) => postWebhook(webhookUrl, 'drift', alertBody(verdict), (error) => options.logger.warn({ err: error.message }, 'drift webhook failed')) : undefined;
  }

  /** One finished chat request; synchronous and cheap: the embedding, if sampled, runs later. */
  observe(record: RequestRecord): void {
    this.tiers.add(record.tier ?? 'none');
    this.escalated.add(record.attempts.some((attempt) => attempt.outcome === 'escalated'));
    this.failed.add(!record.served);
    const latencyMs = record.attempts.reduce((sum, attempt) => sum + attempt.latencyMs, 0);
    if (record.served) this.latency.add(latencyMs);
    for (const attempt of record.attempts) {
      if (!attempt.quality) continue;
      this.quality.add(attempt.quality.score);
      this.latestQuality.push(attempt.quality.score);
    }
    if (this.latestQuality.length >= 2 * this.options.settings.window_size) this.latestQuality = this.latestQuality.slice(-this.options.settings.window_size);
    if (record.inputText) this.sampleEmbedding(record.inputText);
  }

  /** The latest alerts since start, oldest first (GET /admin/dashboard/data lists them). */
  recentAlerts(): readonly DriftAlert[] {
    return this.alerts;
  }

  /** Resolves once the embedding in flight, if any, has been added (shutdown and tests). */
  async idle(): Promise<void> {
    await this.embedding;
  }

  /** Compares the windows now: the verdicts of the signals with enough data in both. */
  check(): DriftVerdict[] {
    const verdicts = [...this.promptVerdicts(), this.tierVerdict(), this.distributionVerdict('quality', this.quality), this.rateVerdict('escalation_rate', this.escalated), this.rateVerdict('error_rate', this.failed), this.distributionVerdict('latency', this.latency)].filter(
      (verdict): verdict is DriftVerdict => verdict !== undefined,
    );
    for (const verdict of verdicts) this.report(verdict);
    this.protectQuality();
    return verdicts;
  }

  /** Checks every `check_every_seconds`; the timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.options.settings.check_every_seconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
  }

  private sampleEmbedding(text: string): void {
    const { embed, settings } = this.options;
    if (!embed || settings.embed_per_second <= 0 || this.embedding) return; // busy: dropped
    const nowMs = this.options.clockMs?.() ?? performance.now();
    if (nowMs - this.lastEmbedAtMs < 1000 / settings.embed_per_second) return;
    this.lastEmbedAtMs = nowMs;
    this.embedding = embed(text)
      .then(
        (vector) => this.prompts.add(vector),
        (error: Error) => this.options.logger.debug({ err: error.message }, 'drift: prompt not embedded'),
      )
      .finally(() => {
        this.embedding = undefined;
      });
  }

  private promptVerdicts(): DriftVerdict[] {
    const { min_samples: minSamples, centroid_threshold: centroidThreshold, psi_threshold: psiThreshold, clusters: k } = this.options.settings;
    const baseline = this.prompts.baseline;
    const recent = this.prompts.latest();
    if (!this.prompts.isBaselineFull() || baseline.length < minSamples || recent.length < minSamples) return [];
    const counts = { baselineCount: baseline.length, recentCount: recent.length };
    const shift = cosineDistance(centroid(baseline), centroid(recent));
    // The baseline is frozen once full, so one fit serves every later check.
    this.clusters ??= kMeans(baseline, k);
    const labels = this.clusters.centroids.map((_, index) => index);
    const stability = populationStability(
      countLabels(
        baseline.map((vector) => this.clusters!.assign(vector)),
        labels,
      ),
      countLabels(
        recent.map((vector) => this.clusters!.assign(vector)),
        labels,
      ),
    );
    return [
      { signal: 'prompt_centroid', score: shift, isDrift: shift > centroidThreshold, ...counts },
      { signal: 'prompt_clusters', score: stability, isDrift: stability > psiThreshold, ...counts },
    ];
  }

  private tierVerdict(): DriftVerdict | undefined {
    const samples = this.judgeable(this.tiers);
    if (!samples) return undefined;
    const score = populationStability(countLabels(samples.baseline, TIER_MIX), countLabels(samples.recent, TIER_MIX));
    return { signal: 'tier_mix', score, isDrift: score > this.options.settings.psi_threshold, ...samples.counts };
  }

  private distributionVerdict(signal: 'quality' | 'latency', windows: Windows<number>): DriftVerdict | undefined {
    const samples = this.judgeable(windows);
    if (!samples) return undefined;
    const test = kolmogorovSmirnov(samples.baseline, samples.recent);
    return this.significance(signal, test, test.statistic >= this.options.settings.ks_min_statistic, samples.counts);
  }

  private rateVerdict(signal: 'escalation_rate' | 'error_rate', windows: Windows<boolean>): DriftVerdict | undefined {
    const samples = this.judgeable(windows);
    if (!samples) return undefined;
    const hits = (values: readonly boolean[]) => values.filter(Boolean).length;
    const [baselineHits, recentHits] = [hits(samples.baseline), hits(samples.recent)];
    const test = twoProportionZ(baselineHits, samples.baseline.length, recentHits, samples.recent.length);
    const gap = Math.abs(recentHits / samples.recent.length - baselineHits / samples.baseline.length);
    return this.significance(signal, test, gap >= this.options.settings.rate_min_difference, samples.counts);
  }

  private significance(signal: DriftSignal, test: TestResult, isLargeEnough: boolean, counts: { baselineCount: number; recentCount: number }): DriftVerdict {
    return { signal, score: test.statistic, pValue: test.pValue, isDrift: isLargeEnough && test.pValue < this.options.settings.p_value, ...counts };
  }

  /** Both windows, when each holds at least min_samples values and the baseline is complete. */
  private judgeable<T>(windows: Windows<T>) {
    const recent = windows.latest();
    const { min_samples: minSamples } = this.options.settings;
    if (!windows.isBaselineFull() || windows.baseline.length < minSamples || recent.length < minSamples) return undefined;
    return { baseline: windows.baseline, recent, counts: { baselineCount: windows.baseline.length, recentCount: recent.length } };
  }

  private report(verdict: DriftVerdict): void {
    const { metrics, logger } = this.options;
    metrics.driftScore.set({ signal: verdict.signal }, verdict.score);
    const wasDrift = this.drifted.has(verdict.signal);
    if (verdict.isDrift === wasDrift) return;
    if (!verdict.isDrift) {
      this.drifted.delete(verdict.signal);
      logger.info({ ...verdict }, 'drift cleared');
      return;
    }
    this.drifted.add(verdict.signal);
    this.alerts.push({ ...verdict, at: new Date() });
    if (this.alerts.length > KEPT_ALERTS) this.alerts.splice(0, this.alerts.length - KEPT_ALERTS);
    metrics.driftAlerts.inc({ signal: verdict.signal });
    logger.warn({ event: 'drift', ...verdict }, `drift detected: ${verdict.signal}`);
    void this.webhook?.(verdict);
  }

  private protectQuality(): void {
    const { routing, settings, qualityTarget } = this.options;
    const recent = this.latestQuality.slice(-settings.window_size);
    if (!routing || !settings.protect_quality || recent.length < settings.min_samples) return;
    const meanQuality = mean(recent);
    const share = routing.localShare;
    if (meanQuality < qualityTarget) {
      const lowered = Math.max(settings.local_share_floor, share - settings.local_share_step);
      if (lowered >= share) return;
      this.restoreShare ??= share;
      routing.setLocalShare(lowered, `drift: mean quality ${meanQuality.toFixed(3)} of the last ${recent.length} scored answers is below the target ${qualityTarget}`);
    } else if (this.restoreShare !== undefined) {
      const raised = Math.min(this.restoreShare, share + settings.local_share_step);
      if (raised >= this.restoreShare) this.restoreShare = undefined;
      routing.setLocalShare(raised, `drift: mean quality ${meanQuality.toFixed(3)} is back at or above the target ${qualityTarget}`);
    }
  }
}

function alertBody(verdict: DriftVerdict): Record<string, unknown> {
  return {
    event: 'drift.detected',
    signal: verdict.signal,
    score: verdict.score,
    p_value: verdict.pValue,
    baseline_count: verdict.baselineCount,
    recent_count: verdict.recentCount,
    at: new Date().toISOString(),
  };
}

/** Bounds one background embedding: a local model call of a few ms; longer means it is busy. */
const EMBED_TIMEOUT_MS = 2_000;

/** The cache's prompt embedder (cache.embedding_model, served locally), each call bounded; none when that model is not local. */
export function driftPromptEmbedder(config: Config, adapters: ReadonlyMap<string, Adapter>): PromptEmbedder | undefined {
  const embed = localPromptEmbedder(config, adapters, 'drift-embed');
  return embed && ((text) => embed(text, AbortSignal.timeout(EMBED_TIMEOUT_MS)));
}
